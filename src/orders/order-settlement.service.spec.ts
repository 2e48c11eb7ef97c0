import { ErrorCode } from '../common/errors/error-code.js';
import { AppError } from '../common/errors/app-error.js';
import { failure } from '../../test/support/app-errors.js';
import { refused } from '../../test/support/fake-pay-client.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { META } from '../../test/support/unit-world.js';

describe('cancel (OrderSettlement through OrderActions)', () => {
  async function setup(prepaid: boolean) {
    const w = orderWorld();
    const user = await w.buyer();
    const [p] = w.stocked(1, { stock: 5 });
    const order = await w.placement.place(user.id, 'k', { items: [{ productId: p.id, quantity: 2 }] });
    if (prepaid) await w.payments.payParams(user.id, order.id);
    return { w, user, order, productId: p.id };
  }

  it('an order that never had a prepay request is cancelled at once, without WeChat Pay', async () => {
    const { w, user, order, productId } = await setup(false);
    const cancelled = await w.actions.cancel(user.id, order.id, META);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
    expect(cancelled.cancelledAt).toBeInstanceOf(Date);
    expect(w.pay.calls).toEqual([]);
    expect(w.products.stockOf(productId)).toBe(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_cancelled']);
    expect(await w.counted('cancelled')).toBe(1);
  });

  it('with a prepay: close, then query; CLOSED → cancelled, stock back', async () => {
    const { w, user, order, productId } = await setup(true);
    const cancelled = await w.actions.cancel(user.id, order.id, META);
    expect(cancelled.status).toBe('cancelled');
    expect(w.pay.calls.map((c) => c.api)).toEqual(['prepay', 'close', 'query']);
    expect(w.products.stockOf(productId)).toBe(5);
  });

  it('with a prepay WeChat Pay does not know (query 404 → null): cancelled', async () => {
    const { w, user, order } = await setup(true);
    w.pay.trades.delete(order.outTradeNo);
    expect((await w.actions.cancel(user.id, order.id, META)).status).toBe('cancelled');
  });

  it('paid at the last moment (query SUCCESS): the order becomes paid and the cancel answers 409 / 40911 "paid"', async () => {
    const { w, user, order, productId } = await setup(true);
    w.pay.setState(order.outTradeNo, 'SUCCESS', { total: order.totalAmount });
    const error = await failure(w.actions.cancel(user.id, order.id, META));
    expect([error.code, error.data]).toEqual([ErrorCode.ORDER_STATE_CONFLICT, { status: 'paid' }]);
    const stored = w.orders.rows.get(order.id)!;
    expect(stored.status).toBe('paid');
    expect(stored.transactionId).toMatch(/^4200000/);
    expect(stored.paidAt?.toISOString()).toBe('2026-12-01T07:30:00.000Z');
    expect(w.products.stockOf(productId)).toBe(3);
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid']);
  });

  it.each(['USERPAYING', 'NOTPAY', 'PAYERROR', 'REVOKED', 'REFUND'])(
    'query %s: unchanged, 502 / 50201 naming the trade_state',
    async (state) => {
      const { w, user, order, productId } = await setup(true);
      w.pay.setState(order.outTradeNo, state, { total: order.totalAmount });
      w.pay.closeTransaction = async () => {};
      const error = await failure(w.actions.cancel(user.id, order.id, META));
      expect([error.code, error.data]).toEqual([
        ErrorCode.WECHAT_PAY_ERROR,
        { wechatPayCode: state, httpStatus: 200 },
      ]);
      expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
      expect(w.products.stockOf(productId)).toBe(3);
      expect(w.events(order.id)).toEqual(['order_created']);
    },
  );

  it.each([
    ['close', refused('SYSTEM_ERROR', 500)],
    ['query', new AppError(ErrorCode.WECHAT_TIMEOUT)],
    ['query', new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED)],
  ] as const)('a failed %s: unchanged, its error passes through', async (api, error) => {
    const { w, user, order } = await setup(true);
    w.pay.failNext(api, error);
    expect(await failure(w.actions.cancel(user.id, order.id, META))).toBe(error);
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
  });

  it('a second cancel is 409 / 40911 "cancelled", and stock came back only once', async () => {
    const { w, user, order, productId } = await setup(false);
    await w.actions.cancel(user.id, order.id, META);
    const error = await failure(w.actions.cancel(user.id, order.id, META));
    expect([error.code, error.data]).toEqual([ErrorCode.ORDER_STATE_CONFLICT, { status: 'cancelled' }]);
    expect(w.products.stockOf(productId)).toBe(5);
  });

  it('concurrent cancels: one wins, stock comes back once, one event', async () => {
    const { w, user, order, productId } = await setup(false);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => w.actions.cancel(user.id, order.id, META)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(w.products.stockOf(productId)).toBe(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_cancelled']);
  });

  it('expiry goes the same way, with cancelReason expired and order_expired', async () => {
    const { w, order, productId } = await setup(true);
    const settled = await w.settlement.settle(order, 'expire');
    expect(settled.outcome).toBe('cancelled');
    expect(settled.order).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
    expect(w.products.stockOf(productId)).toBe(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_expired']);
  });

  it("another user's order is 404 and stays as it is", async () => {
    const { w, order } = await setup(false);
    const other = await w.buyer('o_other');
    expect((await failure(w.actions.cancel(other.id, order.id, META))).code).toBe(ErrorCode.NOT_FOUND);
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
  });
});
