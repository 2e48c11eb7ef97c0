import { ErrorCode } from '../common/errors/error-code.js';
import { failure } from '../../test/support/app-errors.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { META } from '../../test/support/unit-world.js';

describe('OrderQueries', () => {
  const address = {
    userName: 'Li Lei',
    telNumber: '+86 138 0013 8000',
    provinceName: 'Guangdong',
    cityName: 'Guangzhou',
    countyName: 'Haizhu',
    detailInfo: '397 Xingang Middle Road',
  };

  async function setup() {
    const w = orderWorld();
    const owner = await w.buyer();
    const stranger = await w.buyer('o_stranger');
    const [p] = w.stocked(1);
    const order = await w.placement.place(
      owner.id,
      'k',
      { items: [{ productId: p.id, quantity: 1 }], shippingAddress: address },
      META,
    );
    return { w, owner, stranger, order };
  }

  it('the owner and admins see an order; anyone else gets 404', async () => {
    const { w, owner, stranger, order } = await setup();
    expect((await w.queries.visible({ userId: owner.id, sessionId: 's', role: 'user' }, order.id)).id).toBe(
      order.id,
    );
    expect(
      (await w.queries.visible({ userId: stranger.id, sessionId: 's', role: 'admin' }, order.id)).id,
    ).toBe(order.id);
    const error = await failure(
      w.queries.visible({ userId: stranger.id, sessionId: 's', role: 'user' }, order.id),
    );
    expect(error.code).toBe(ErrorCode.NOT_FOUND);
  });

  it('the view has the contract fields, the address decrypted, refunds empty', async () => {
    const { w, order } = await setup();
    const view = await w.queries.view(order);
    expect(Object.keys(view).sort()).toEqual(
      [
        'id',
        'outTradeNo',
        'userId',
        'status',
        'items',
        'totalAmount',
        'refundedAmount',
        'currency',
        'shippingAddress',
        'transactionId',
        'trackingNo',
        'cancelReason',
        'refunds',
        'createdAt',
        'expiresAt',
        'paidAt',
        'shippedAt',
        'completedAt',
        'cancelledAt',
        'updatedAt',
      ].sort(),
    );
    expect(view.shippingAddress).toEqual(address);
    expect(view.refunds).toEqual([]);
    expect(view.items).toEqual([
      { productId: expect.any(String), title: 'Product 1', unitPrice: 100, quantity: 1, amount: 100 },
    ]);
  });

  it("erasure blanks the address of every order of the user's", async () => {
    const { w, owner, order } = await setup();
    await w.uow.run((tx) => w.orders.blankShippingAddresses(owner.id, tx));
    expect((await w.queries.view(w.orders.rows.get(order.id)!)).shippingAddress).toBeNull();
  });

  it('lists newest first, own orders only, filtered by status', async () => {
    const { w, owner, stranger, order } = await setup();
    const [p] = w.stocked(1);
    const later = await w.placement.place(owner.id, 'k2', { items: [{ productId: p.id, quantity: 1 }] });
    w.orders.rows.get(later.id)!.createdAt = new Date(order.createdAt.getTime() + 1000);
    await w.placement.place(stranger.id, 'k', { items: [{ productId: p.id, quantity: 1 }] });
    await w.actions.cancel(owner.id, order.id, META);
    const page = await w.queries.listOwn(owner.id, { page: 1, pageSize: 20 });
    expect(page.items.map((o) => o.id)).toEqual([later.id, order.id]);
    expect(page.total).toBe(2);
    const cancelled = await w.queries.listOwn(owner.id, { page: 1, pageSize: 20, status: 'cancelled' });
    expect(cancelled.items.map((o) => o.id)).toEqual([order.id]);
    const byNo = await w.queries.listAll({ page: 1, pageSize: 20, outTradeNo: order.outTradeNo });
    expect(byNo.items.map((o) => o.id)).toEqual([order.id]);
  });

  it("an admin's view lists the order's events oldest first, with short details", async () => {
    const { w, owner, order } = await setup();
    await w.actions.cancel(owner.id, order.id, META);
    const view = await w.queries.adminView(order.id);
    expect(view.events.map((e) => e.type)).toEqual(['order_created', 'order_cancelled']);
    expect(view.events[1].detail).toBe('pending_payment->cancelled');
    expect(JSON.stringify(view.events)).not.toContain('o_buyer');
  });
});
