import { ErrorCode } from '../common/errors/error-code.js';
import { failure } from '../../test/support/app-errors.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { META } from '../../test/support/unit-world.js';

describe('OrderTransitions', () => {
  async function placed() {
    const w = orderWorld();
    const user = await w.buyer();
    const admin = await w.buyer('o_admin');
    const [p] = w.stocked(1, { stock: 3, price: 500 });
    const order = await w.placement.place(user.id, 'k', { items: [{ productId: p.id, quantity: 1 }] }, META);
    return { w, user, admin, order, productId: p.id };
  }

  it('paid → shipped (admin, tracking number) → completed (owner): one entry each, counted after commit', async () => {
    const { w, user, admin, order } = await placed();
    await w.transitions.apply(order.id, { action: 'paid', set: { transactionId: 't1' } });
    const shipped = await w.actions.ship(admin.id, order.id, 'SF1234567890', META);
    expect(shipped).toMatchObject({ status: 'shipped', trackingNo: 'SF1234567890' });
    const completed = await w.actions.confirm(user.id, order.id, META);
    expect(completed.status).toBe('completed');
    expect(completed.completedAt).toBeInstanceOf(Date);
    expect(w.events(order.id)).toEqual(['order_created', 'order_paid', 'order_shipped', 'order_completed']);
    const ship = w.core.repos.audit.rows.find((r) => r.event === 'order_shipped')!;
    expect([ship.actorId, ship.userId, ship.detail]).toEqual([
      admin.id,
      user.id,
      'paid->shipped, tracking SF1234567890',
    ]);
    for (const status of ['pending_payment', 'paid', 'shipped', 'completed'])
      expect(await w.counted(status)).toBe(1);
  });

  it('ship without a tracking number keeps it null', async () => {
    const { w, admin, order } = await placed();
    await w.transitions.apply(order.id, { action: 'paid' });
    expect((await w.actions.ship(admin.id, order.id, undefined, META)).trackingNo).toBeNull();
  });

  it('a refused action changes nothing, writes nothing and counts nothing', async () => {
    const { w, user, admin, order } = await placed();
    for (const attempt of [
      () => w.actions.ship(admin.id, order.id, undefined, META),
      () => w.actions.confirm(user.id, order.id, META),
    ]) {
      const error = await failure(attempt());
      expect([error.code, error.data]).toEqual([
        ErrorCode.ORDER_STATE_CONFLICT,
        { status: 'pending_payment' },
      ]);
    }
    expect(w.events(order.id)).toEqual(['order_created']);
    expect(await w.counted('shipped')).toBe(0);
  });

  it('a transaction that fails after the change leaves the order, the stock and the counters as they were', async () => {
    const { w, order, productId } = await placed();
    w.uow.failNext = new Error('commit failed');
    await expect(w.transitions.apply(order.id, { action: 'cancel' })).rejects.toThrow('commit failed');
    expect(w.orders.rows.get(order.id)!.status).toBe('pending_payment');
    expect(w.products.stockOf(productId)).toBe(2);
    expect(w.events(order.id)).toEqual(['order_created']);
    expect(await w.counted('cancelled')).toBe(0);
  });

  it('refunds: all that remains → refunding, settled → refunded or back to the status before', async () => {
    const { w, order } = await placed();
    await w.transitions.apply(order.id, { action: 'paid' });
    await w.transitions.apply(order.id, { action: 'refund_full' });
    expect(w.orders.rows.get(order.id)).toMatchObject({ status: 'refunding', statusBeforeRefunding: 'paid' });
    await w.transitions.apply(order.id, { action: 'refund_settled', event: 'refund_failed' });
    expect(w.orders.rows.get(order.id)).toMatchObject({ status: 'paid', statusBeforeRefunding: null });
    await w.transitions.apply(order.id, { action: 'refund_full' });
    const done = await w.transitions.apply(order.id, {
      action: 'refund_settled',
      event: 'refund_succeeded',
      refunded: 500,
    });
    expect(done.order).toMatchObject({ status: 'refunded', refundedAmount: 500 });
    expect(w.events(order.id)).toEqual([
      'order_created',
      'order_paid',
      'refund_requested',
      'refund_failed',
      'refund_requested',
      'refund_succeeded',
    ]);
  });

  it('an unknown order is 404', async () => {
    const { w } = await placed();
    const error = await failure(
      w.transitions.apply('00000000-0000-4000-8000-000000000000', { action: 'paid' }),
    );
    expect(error.code).toBe(ErrorCode.NOT_FOUND);
  });
});
