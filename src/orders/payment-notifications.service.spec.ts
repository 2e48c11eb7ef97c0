import { NotificationRefused, type Transaction } from '../payments/wechat-pay-client.port.js';
import { FAKE_APPID, FAKE_MCHID, transactionNotification } from '../../test/support/fake-pay-client.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import type { OrderEntity } from './order.entity.js';

describe('PaymentNotificationsService.handleTransaction', () => {
  async function setup() {
    const w = orderWorld();
    const user = await w.buyer();
    const [p] = w.stocked(1, { price: 990 });
    const order = await w.placement.place(user.id, 'k', { items: [{ productId: p.id, quantity: 2 }] });
    await w.payments.payParams(user.id, order.id);
    return { w, order };
  }

  const paid = (order: OrderEntity, changes: Partial<Transaction> = {}): Transaction => ({
    mchid: FAKE_MCHID,
    appid: FAKE_APPID,
    outTradeNo: order.outTradeNo,
    transactionId: '4200001234202612011234567890',
    tradeState: 'SUCCESS',
    successTime: '2026-12-01T15:31:02+08:00',
    total: order.totalAmount,
    ...changes,
  });

  const counted = async (w: ReturnType<typeof orderWorld>, result: string) =>
    (await w.metrics.notifications.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it('a matching TRANSACTION.SUCCESS pays the order: transactionId, paidAt = success_time, one event', async () => {
    const { w, order } = await setup();
    expect(await w.notifications.handleTransaction(transactionNotification(paid(order)))).toBe('applied');
    expect(w.orders.rows.get(order.id)).toMatchObject({
      status: 'paid',
      transactionId: '4200001234202612011234567890',
      paidAt: new Date('2026-12-01T07:31:02.000Z'),
    });
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid']);
    expect(await w.counted('paid')).toBe(1);
    expect(await counted(w, 'applied')).toBe(1);
  });

  it('a repeat of the applied notification changes nothing and writes no second event', async () => {
    const { w, order } = await setup();
    await w.notifications.handleTransaction(transactionNotification(paid(order)));
    expect(await w.notifications.handleTransaction(transactionNotification(paid(order)))).toBe('duplicate');
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid']);
    expect(await counted(w, 'duplicate')).toBe(1);
  });

  it('concurrent deliveries of one notification apply it once', async () => {
    const { w, order } = await setup();
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        w.notifications.handleTransaction(transactionNotification(paid(order))),
      ),
    );
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5);
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid']);
  });

  it.each<[string, (order: OrderEntity) => Transaction]>([
    ['another mchid', (o) => paid(o, { mchid: '1900009999' })],
    ['another appid', (o) => paid(o, { appid: 'wxother' })],
    ['another amount', (o) => paid(o, { total: o.totalAmount - 1 })],
    ['a missing amount', (o) => paid(o, { total: Number.NaN })],
    ['a trade_state other than SUCCESS', (o) => paid(o, { tradeState: 'NOTPAY' })],
  ])('%s: rejected, nothing changes, one notify_rejected on the order', async (_case, build) => {
    const { w, order } = await setup();
    expect(await w.notifications.handleTransaction(transactionNotification(build(order)))).toBe('rejected');
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
    expect(w.events(order.id)).toEqual(['order_created', 'notify_rejected']);
    expect(await counted(w, 'rejected')).toBe(1);
  });

  it('an unknown out_trade_no or another event type: rejected, an entry without an order', async () => {
    const { w, order } = await setup();
    expect(
      await w.notifications.handleTransaction(
        transactionNotification(paid(order, { outTradeNo: '1'.repeat(32) })),
      ),
    ).toBe('rejected');
    expect(
      await w.notifications.handleTransaction(transactionNotification(paid(order), 'TRANSACTION.CLOSED')),
    ).toBe('rejected');
    const rejected = w.core.repos.audit.rows.filter((r) => r.event === 'notify_rejected');
    expect(rejected.map((r) => r.orderId)).toEqual([null, null]);
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
  });

  it('an order that is no longer pending_payment (another transaction): rejected', async () => {
    const { w, order } = await setup();
    await w.notifications.handleTransaction(transactionNotification(paid(order)));
    const other = paid(order, { transactionId: '4200009999' });
    expect(await w.notifications.handleTransaction(transactionNotification(other))).toBe('rejected');
    expect(w.orders.rows.get(order.id)!.transactionId).toBe('4200001234202612011234567890');
  });

  it('a cancelled order is not paid by a late notification', async () => {
    const { w, order } = await setup();
    await w.settlement.settle(order, 'expire');
    expect(await w.notifications.handleTransaction(transactionNotification(paid(order)))).toBe('rejected');
    expect(w.orders.rows.get(order.id)!.status).toBe('cancelled');
  });

  it('a notification that fails verification is refused before anything is read, with an entry without an order', async () => {
    const { w, order } = await setup();
    const raw = { ...transactionNotification(paid(order)), headers: { 'x-refuse': '1' } };
    await expect(w.notifications.handleTransaction(raw)).rejects.toBeInstanceOf(NotificationRefused);
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
    const entry = w.core.repos.audit.rows.find((r) => r.event === 'notify_rejected')!;
    expect(entry.orderId).toBeNull();
    expect(await counted(w, 'invalid')).toBe(1);
  });
});
