import { ErrorCode } from '../common/errors/error-code.js';
import { failure, outcome } from '../../test/support/app-errors.js';
import { orderWorld } from '../../test/support/in-memory-orders.js';
import { META } from '../../test/support/unit-world.js';
import { itemsFingerprint, totalOf } from './order-placement.service.js';

describe('OrderPlacement', () => {
  async function setup(options: { paymentTtlSeconds?: number } = {}) {
    const w = orderWorld(options);
    const user = await w.buyer();
    const [a, b, c] = w.stocked(3, { stock: 10 });
    w.products.rows.get(b.id)!.price = 250;
    w.products.rows.get(c.id)!.price = 1_000_000;
    return {
      w,
      user,
      a: w.products.rows.get(a.id)!,
      b: w.products.rows.get(b.id)!,
      c: w.products.rows.get(c.id)!,
    };
  }

  it('computes the lines and the total from the current prices, and reserves the stock', async () => {
    const { w, user, a, b } = await setup();
    const order = await w.placement.place(
      user.id,
      'k1',
      {
        items: [
          { productId: a.id, quantity: 3 },
          { productId: b.id, quantity: 2 },
        ],
      },
      META,
    );
    const items = await w.orders.findItems([order.id]);
    expect(items.map((i) => [i.productId, i.title, i.unitPrice, i.quantity, i.amount])).toEqual([
      [a.id, a.title, 100, 3, 300],
      [b.id, b.title, 250, 2, 500],
    ]);
    expect(order.totalAmount).toBe(800);
    expect(totalOf(items)).toBe(800);
    expect([w.products.stockOf(a.id), w.products.stockOf(b.id)]).toEqual([7, 8]);
    expect(order).toMatchObject({
      status: 'pending_payment',
      refundedAmount: 0,
      currency: 'CNY',
      userId: user.id,
    });
    expect(order.outTradeNo).toMatch(/^\d{32}$/);
    expect(w.events(order.id)).toEqual(['order_created']);
    expect(await w.counted('pending_payment')).toBe(1);
  });

  it('the largest order fits a 32-bit total: 20 lines x 99 x 1,000,000 fen', async () => {
    const w = orderWorld();
    const user = await w.buyer();
    const products = w.stocked(20, { price: 1_000_000, stock: 99 });
    const order = await w.placement.place(user.id, 'big', {
      items: products.map((p) => ({ productId: p.id, quantity: 99 })),
    });
    expect(order.totalAmount).toBe(1_980_000_000);
    expect(order.totalAmount).toBeLessThan(2 ** 31);
  });

  it('expiresAt is createdAt + ORDER_PAYMENT_TTL', async () => {
    const { w, user, a } = await setup({ paymentTtlSeconds: 60 });
    const order = await w.placement.place(user.id, 'k', { items: [{ productId: a.id, quantity: 1 }] });
    expect(order.expiresAt.getTime() - order.createdAt.getTime()).toBe(60_000);
  });

  it('unknown or off-shelf products: 409 / 40912 naming them, nothing reserved, key unused', async () => {
    const { w, user, a, b } = await setup();
    w.products.rows.get(b.id)!.status = 'off_shelf';
    const unknown = '00000000-0000-4000-8000-000000000000';
    const items = [
      { productId: a.id, quantity: 1 },
      { productId: unknown, quantity: 1 },
      { productId: b.id, quantity: 1 },
    ];
    const error = await failure(w.placement.place(user.id, 'k', { items }));
    expect([error.code, error.data]).toEqual([
      ErrorCode.PRODUCT_UNAVAILABLE,
      { productIds: [unknown, b.id] },
    ]);
    expect(w.products.stockOf(a.id)).toBe(10);
    expect(w.orders.rows.size).toBe(0);
    // The key was not used: other items with it make an order.
    expect(
      (await w.placement.place(user.id, 'k', { items: [{ productId: a.id, quantity: 1 }] })).status,
    ).toBe('pending_payment');
  });

  it('not enough stock for a line: 409 / 40910 naming it, no line reserved, key unused', async () => {
    const { w, user, a, b } = await setup();
    const items = [
      { productId: a.id, quantity: 2 },
      { productId: b.id, quantity: 11 },
    ];
    const error = await failure(w.placement.place(user.id, 'k', { items }));
    expect([error.code, error.data]).toEqual([ErrorCode.OUT_OF_STOCK, { productIds: [b.id] }]);
    expect([w.products.stockOf(a.id), w.products.stockOf(b.id)]).toEqual([10, 10]);
    expect(w.orders.rows.size).toBe(0);
    expect(w.core.repos.audit.rows.filter((r) => r.event === 'order_created')).toHaveLength(0);
    expect(
      await outcome(w.placement.place(user.id, 'k', { items: [{ productId: b.id, quantity: 10 }] })),
    ).toBe('ok');
  });

  it('the same key with the same items answers the same order, reserving nothing again', async () => {
    const { w, user, a } = await setup();
    const items = [{ productId: a.id, quantity: 4 }];
    const first = await w.placement.place(user.id, 'same', { items });
    const again = await w.placement.place(user.id, 'same', { items: [{ productId: a.id, quantity: 4 }] });
    expect(again.id).toBe(first.id);
    expect(w.products.stockOf(a.id)).toBe(6);
    expect(w.events(first.id)).toEqual(['order_created']);
  });

  it('the same key with other items (quantity, product or order of lines): 409 / 40901', async () => {
    const { w, user, a, b } = await setup();
    await w.placement.place(user.id, 'k', {
      items: [
        { productId: a.id, quantity: 1 },
        { productId: b.id, quantity: 1 },
      ],
    });
    for (const items of [
      [
        { productId: a.id, quantity: 2 },
        { productId: b.id, quantity: 1 },
      ],
      [{ productId: a.id, quantity: 1 }],
      [
        { productId: b.id, quantity: 1 },
        { productId: a.id, quantity: 1 },
      ],
    ]) {
      expect((await failure(w.placement.place(user.id, 'k', { items }))).code).toBe(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
      );
    }
    expect(w.orders.rows.size).toBe(1);
  });

  it('a key is per user: another user with the same key makes their own order', async () => {
    const { w, user, a } = await setup();
    const other = await w.buyer('o_other');
    const items = [{ productId: a.id, quantity: 1 }];
    const mine = await w.placement.place(user.id, 'k', { items });
    const theirs = await w.placement.place(other.id, 'k', { items });
    expect(theirs.id).not.toBe(mine.id);
    expect(w.products.stockOf(a.id)).toBe(8);
  });

  it('concurrent requests with one key make one order, and each answers it', async () => {
    const { w, user, a } = await setup();
    const items = [{ productId: a.id, quantity: 1 }];
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => w.placement.place(user.id, 'race', { items: [...items] })),
    );
    expect(new Set(answers.map((o) => o.id)).size).toBe(1);
    expect(w.orders.rows.size).toBe(1);
    expect(w.products.stockOf(a.id)).toBe(9);
    expect(w.core.repos.audit.rows.filter((r) => r.event === 'order_created')).toHaveLength(1);
  });

  it('concurrent requests with one key for the last unit: one order, none answers 40910', async () => {
    const { w, user, a } = await setup();
    w.products.rows.get(a.id)!.stock = 1;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        w.placement.place(user.id, 'last', { items: [{ productId: a.id, quantity: 1 }] }),
      ),
    );
    expect(new Set(answers.map((o) => o.id)).size).toBe(1);
    expect(w.products.stockOf(a.id)).toBe(0);
  });

  it('the shipping address is stored encrypted, without errMsg', async () => {
    const { w, user, a } = await setup();
    const address = {
      userName: '张三',
      telNumber: '020-81167888',
      provinceName: '广东省',
      cityName: '广州市',
      countyName: '海珠区',
      detailInfo: '新港中路397号',
      postalCode: '510000',
      errMsg: 'chooseAddress:ok',
    };
    const order = await w.placement.place(user.id, 'k', {
      items: [{ productId: a.id, quantity: 1 }],
      shippingAddress: address,
    });
    const stored = w.orders.rows.get(order.id)!.shippingAddressEncrypted!;
    expect(stored).not.toContain('新港中路');
    const view = await w.queries.view(order);
    const { errMsg: _dropped, ...kept } = address;
    expect(view.shippingAddress).toEqual(kept);
  });

  it('the fingerprint compares parsed values in order', () => {
    const a = itemsFingerprint([{ productId: 'p', quantity: 1 }]);
    expect(itemsFingerprint([{ productId: 'p', quantity: 1 }])).toBe(a);
    expect(itemsFingerprint([{ productId: 'p', quantity: 2 }])).not.toBe(a);
  });
});
