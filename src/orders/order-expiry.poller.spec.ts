import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { OrderExpiryPoller } from './order-expiry.poller.js';
import { DEFAULT_ORDER_POLLING } from './order-polling.js';

const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

describe('expiry (OrderExpiryPoller)', () => {
  async function setup(prepaid: boolean) {
    const w = orderWorld({ paymentTtlSeconds: 5 });
    const user = await w.buyer();
    const [p] = w.stocked(1, { stock: 5 });
    const order = await w.placement.place(user.id, 'k', { items: [{ productId: p.id, quantity: 2 }] });
    if (prepaid) await w.payments.payParams(user.id, order.id);
    const stored = () => w.orders.rows.get(order.id)!;
    return { w, user, order, productId: p.id, stored };
  }

  it('leaves an order alone until expiresAt', async () => {
    const { w, order, stored } = await setup(false);
    await w.expiry.tick(later(order.expiresAt, -1));
    expect(stored().status).toBe('pending_payment');
  });

  it('never prepaid: cancelled/expired at once, without WeChat Pay, stock back once', async () => {
    const { w, order, productId, stored } = await setup(false);
    await w.expiry.tick(order.expiresAt);
    expect(stored()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'expired',
      settleLeaseOwner: null,
      settleLeaseUntil: null,
    });
    expect(w.pay.calls).toEqual([]);
    expect(w.products.stockOf(productId)).toBe(5);
    await w.expiry.tick(later(order.expiresAt, 120_000));
    expect(w.products.stockOf(productId)).toBe(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_expired']);
  });

  it('prepaid: closed, then queried; CLOSED → cancelled/expired', async () => {
    const { w, order, stored } = await setup(true);
    await w.expiry.tick(later(order.expiresAt, 1000));
    expect(w.pay.calls.map((c) => c.api)).toEqual(['prepay', 'close', 'query']);
    expect(stored()).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
  });

  it('paid at WeChat Pay at the last moment (query SUCCESS): paid, never cancelled; the stock stays sold', async () => {
    const { w, order, productId, stored } = await setup(true);
    w.pay.setState(order.outTradeNo, 'SUCCESS', { total: order.totalAmount });
    await w.expiry.tick(later(order.expiresAt, 1000));
    expect(stored().status).toBe('paid');
    expect(w.products.stockOf(productId)).toBe(3);
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid']);
    await w.expiry.tick(later(order.expiresAt, 120_000));
    expect(w.pay.count('query')).toBe(1);
  });

  it('one WeChat Pay cannot settle is tried again after retryAfterMs (not before), then settled', async () => {
    const { w, order, stored } = await setup(true);
    w.pay.failNext('close', new AppError(ErrorCode.WECHAT_TIMEOUT));
    const first = later(order.expiresAt, 1000);
    await w.expiry.tick(first);
    expect(stored()).toMatchObject({ status: 'pending_payment', settleLeaseOwner: null });
    expect(stored().settleNextAttemptAt?.getTime()).toBe(
      first.getTime() + DEFAULT_ORDER_POLLING.retryAfterMs,
    );
    expect(DEFAULT_ORDER_POLLING.retryAfterMs).toBeLessThanOrEqual(60_000);

    await w.expiry.tick(later(first, DEFAULT_ORDER_POLLING.retryAfterMs - 1));
    expect(w.pay.count('close')).toBe(1);
    await w.expiry.tick(later(first, DEFAULT_ORDER_POLLING.retryAfterMs));
    expect(w.pay.count('close')).toBe(2);
    expect(stored().status).toBe('cancelled');
  });

  it('USERPAYING at the query: unchanged, tried again later', async () => {
    const { w, order, stored } = await setup(true);
    w.pay.setState(order.outTradeNo, 'USERPAYING');
    w.pay.closeTransaction = async () => {};
    await w.expiry.tick(later(order.expiresAt, 1000));
    expect(stored().status).toBe('pending_payment');
    expect(stored().settleNextAttemptAt).not.toBeNull();
  });

  it('a lease held by another instance is respected until it ends; an instance that died is replaced', async () => {
    const { w, order, stored } = await setup(false);
    const at = later(order.expiresAt, 1000);
    expect(await w.orders.claimSettlement(order.id, 'another-instance', at, later(at, 30_000))).toBe(true);
    await w.expiry.tick(later(at, 29_999));
    expect(stored().status).toBe('pending_payment');
    await w.expiry.tick(later(at, 30_001));
    expect(stored()).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
  });

  it('two instances at once settle an order once', async () => {
    const { w, order, productId } = await setup(true);
    const other = new OrderExpiryPoller(w.orders, w.settlement, DEFAULT_ORDER_POLLING);
    const at = later(order.expiresAt, 1000);
    await Promise.all([w.expiry.tick(at), other.tick(at)]);
    expect(w.pay.count('close')).toBe(1);
    expect(w.products.stockOf(productId)).toBe(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_expired']);
  });

  it('an order the owner cancelled meanwhile is left as it is', async () => {
    const { w, user, order, stored } = await setup(false);
    await w.actions.cancel(user.id, order.id, { ip: '::1', requestId: 'r', userAgent: null });
    await w.expiry.tick(later(order.expiresAt, 1000));
    expect(stored().cancelReason).toBe('user');
  });
});
