import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

const API = '/api/v1';

const ADDRESS = {
  userName: '张三',
  telNumber: '020-81167888',
  provinceName: '广东省',
  cityName: '广州市',
  countyName: '海珠区',
  detailInfo: '新港中路397号 E2E-ADDRESS-MARK',
  postalCode: '510000',
  nationalCode: '440105',
};

const ORDER_KEYS = [
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
].sort();

describe('orders: /api/v1/orders (sandbox WeChat Pay)', () => {
  let h: Harness;
  let admin: LoginResult;
  let buyer: LoginResult;
  let stranger: LoginResult;

  const post = (path: string, who: LoginResult, body?: object, headers: Record<string, string> = {}) => {
    const req = h.http().post(`${API}${path}`).set('Authorization', who.bearer).set(headers);
    return body === undefined ? req : req.send(body);
  };
  const get = (path: string, who: LoginResult) =>
    h.http().get(`${API}${path}`).set('Authorization', who.bearer);

  const product = async (fields: { title?: string; price?: number; stock?: number } = {}) =>
    expectOk(
      await post('/products', admin, {
        title: fields.title ?? `Tea ${randomUUID().slice(0, 8)}`,
        price: fields.price ?? 1200,
        stock: fields.stock ?? 10,
      }),
    ) as { id: string; price: number; stock: number; title: string };

  const stockOf = async (id: string): Promise<number> =>
    (expectOk(await get(`/admin/products/${id}`, admin)) as { stock: number }).stock;

  const order = (who: LoginResult, body: object, key: string = randomUUID()): Promise<Response> =>
    post('/orders', who, body, { 'Idempotency-Key': key }) as unknown as Promise<Response>;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const placed = async (who: LoginResult, body: object): Promise<any> => expectOk(await order(who, body));

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
    buyer = await h.login();
    stranger = await h.login();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('create → pay → sandbox pay → paid, with the contract shapes', async () => {
    const tea = await product({ price: 1200, stock: 10 });
    const cup = await product({ price: 350, stock: 10 });
    const created = await placed(buyer, {
      items: [
        { productId: tea.id, quantity: 2 },
        { productId: cup.id, quantity: 1 },
      ],
    });
    expect(Object.keys(created).sort()).toEqual(ORDER_KEYS);
    expect(created).toMatchObject({
      status: 'pending_payment',
      userId: buyer.user.id,
      totalAmount: 2750,
      refundedAmount: 0,
      currency: 'CNY',
      shippingAddress: null,
      transactionId: null,
      cancelReason: null,
      refunds: [],
      paidAt: null,
    });
    expect(created.items).toEqual([
      { productId: tea.id, title: tea.title, unitPrice: 1200, quantity: 2, amount: 2400 },
      { productId: cup.id, title: cup.title, unitPrice: 350, quantity: 1, amount: 350 },
    ]);
    expect(created.outTradeNo).toMatch(/^\d{32}$/);
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(900_000);
    expect(await stockOf(tea.id)).toBe(8);

    // No prepay yet: the sandbox cannot pay it.
    expect(expectError(await post(`/sandbox/orders/${created.id}/pay`, buyer), 40911)).toEqual({
      status: 'pending_payment',
    });

    const params = expectOk(await post(`/orders/${created.id}/pay`, buyer));
    expect(Object.keys(params).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    expect(params.signType).toBe('RSA');
    expect(params.package).toMatch(/^prepay_id=sbx_/);
    expect(params.nonceStr).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(params.timeStamp).toMatch(/^\d+$/);
    // The stored prepay_id is reused.
    const again = expectOk(await post(`/orders/${created.id}/pay`, buyer, {}));
    expect(again.package).toBe(params.package);

    const paid = expectOk(await post(`/sandbox/orders/${created.id}/pay`, buyer));
    expect(paid).toMatchObject({ id: created.id, status: 'paid' });
    expect(paid.transactionId).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(paid.paidAt))).toBe(false);
    expect(expectOk(await get(`/orders/${created.id}`, buyer)).status).toBe('paid');
    // Paid keeps the stock (sold).
    expect(await stockOf(tea.id)).toBe(8);

    // Paying again, or in the sandbox again, is a state conflict.
    expect(expectError(await post(`/orders/${created.id}/pay`, buyer), 40911)).toEqual({ status: 'paid' });
    expect(expectError(await post(`/sandbox/orders/${created.id}/pay`, buyer), 40911)).toEqual({
      status: 'paid',
    });

    const detail = expectOk(await get(`/admin/orders/${created.id}`, admin));
    expect(detail.events.map((e: { type: string }) => e.type)).toEqual(['order_created', 'order_paid']);
    for (const event of detail.events)
      expect(Object.keys(event).sort()).toEqual(['createdAt', 'detail', 'type']);
    expect(JSON.stringify(detail.events)).not.toContain(buyer.openid);

    const metrics = await h.http().get('/metrics');
    expect(metrics.text).toMatch(/orders_total\{status="paid"\} [1-9]/);
    expect(metrics.text).toMatch(/pay_notifications_total\{kind="transaction",result="applied"\} [1-9]/);
  });

  it('Idempotency-Key: the same items answer the same order once; other items 409 / 40901', async () => {
    const tea = await product({ stock: 5 });
    const key = `key-${randomUUID()}`;
    const body = { items: [{ productId: tea.id, quantity: 2 }] };
    const first = await placed(buyer, body);
    void first;
    const a = expectOk(await order(buyer, body, key));
    const b = expectOk(await order(buyer, body, key));
    expect(b.id).toBe(a.id);
    expect(await stockOf(tea.id)).toBe(1);
    expectError(await order(buyer, { items: [{ productId: tea.id, quantity: 1 }] }, key), 40901);
    // Keys are per user.
    const theirs = expectOk(await order(stranger, { items: [{ productId: tea.id, quantity: 1 }] }, key));
    expect(theirs.id).not.toBe(a.id);
  });

  it('concurrent requests with one key make one order, and each answers it', async () => {
    const tea = await product({ stock: 20 });
    const key = `race-${randomUUID()}`;
    const body = { items: [{ productId: tea.id, quantity: 1 }] };
    const answers = await Promise.all(Array.from({ length: 6 }, () => order(buyer, body, key)));
    const ids = answers.map((res) => expectOk(res).id);
    expect(new Set(ids).size).toBe(1);
    expect(await stockOf(tea.id)).toBe(19);
  });

  it('out of stock: 409 / 40910 naming the lines, nothing reserved, the key left unused', async () => {
    const plenty = await product({ stock: 10 });
    const scarce = await product({ stock: 1 });
    const key = `short-${randomUUID()}`;
    const data = expectError(
      await order(
        buyer,
        {
          items: [
            { productId: plenty.id, quantity: 3 },
            { productId: scarce.id, quantity: 2 },
          ],
        },
        key,
      ),
      40910,
    );
    expect(data).toEqual({ productIds: [scarce.id] });
    expect([await stockOf(plenty.id), await stockOf(scarce.id)]).toEqual([10, 1]);
    // Unused: the same key with other items makes an order.
    expect(expectOk(await order(buyer, { items: [{ productId: scarce.id, quantity: 1 }] }, key)).status).toBe(
      'pending_payment',
    );
  });

  it('unknown or off-shelf products: 409 / 40912 naming them', async () => {
    const off = await product();
    expectOk(
      await h
        .http()
        .patch(`${API}/products/${off.id}`)
        .set('Authorization', admin.bearer)
        .send({ status: 'off_shelf' }),
    );
    const unknown = randomUUID();
    const data = expectError(
      await order(buyer, {
        items: [
          { productId: unknown, quantity: 1 },
          { productId: off.id, quantity: 1 },
        ],
      }),
      40912,
    );
    expect(data).toEqual({ productIds: [unknown, off.id] });
  });

  it('cancel gives the stock back once; cancelling again is 409 / 40911 "cancelled"', async () => {
    const tea = await product({ stock: 4 });
    const created = await placed(buyer, { items: [{ productId: tea.id, quantity: 3 }] });
    expect(await stockOf(tea.id)).toBe(1);
    const cancelled = expectOk(await post(`/orders/${created.id}/cancel`, buyer));
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
    expect(cancelled.cancelledAt).not.toBeNull();
    expect(await stockOf(tea.id)).toBe(4);
    expect(expectError(await post(`/orders/${created.id}/cancel`, buyer, {}), 40911)).toEqual({
      status: 'cancelled',
    });
    expect(await stockOf(tea.id)).toBe(4);
    expectError(await post(`/orders/${created.id}/pay`, buyer), 40911);
  });

  it('cancel after a prepay closes and queries the sandbox: cancelled, stock back once', async () => {
    const tea = await product({ stock: 2 });
    const created = await placed(buyer, { items: [{ productId: tea.id, quantity: 2 }] });
    expectOk(await post(`/orders/${created.id}/pay`, buyer));
    const results = await Promise.all([1, 2, 3].map(() => post(`/orders/${created.id}/cancel`, buyer)));
    expect(results.filter((res) => res.status === 200)).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 200)) expectError(res, 40911);
    expect(await stockOf(tea.id)).toBe(2);
    const events = expectOk(await get(`/admin/orders/${created.id}`, admin)).events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['order_created', 'order_cancelled']);
  });

  it("another user's order is 404 / 40400 on every route; an admin reads it", async () => {
    const tea = await product();
    const created = await placed(buyer, {
      items: [{ productId: tea.id, quantity: 1 }],
      shippingAddress: ADDRESS,
    });
    expectError(await get(`/orders/${created.id}`, stranger), 40400);
    for (const action of ['pay', 'cancel', 'confirm']) {
      expectError(await post(`/orders/${created.id}/${action}`, stranger), 40400);
    }
    expectError(await post(`/sandbox/orders/${created.id}/pay`, stranger), 40400);
    expectError(await get('/orders/not-a-uuid', buyer), 40400);
    expectError(await get(`/orders/${randomUUID()}`, buyer), 40400);
    const seen = expectOk(await get(`/orders/${created.id}`, admin));
    expect(seen.shippingAddress).toEqual(ADDRESS);
    expect(expectOk(await get(`/orders/${created.id}`, buyer)).shippingAddress).toEqual(ADDRESS);
    const list = expectOk(await get('/orders', stranger));
    expect(list.items.map((o: { id: string }) => o.id)).not.toContain(created.id);
  });

  it('admin ship → owner confirm → completed; the wrong order of steps is 409 / 40911', async () => {
    const tea = await product();
    const created = await placed(buyer, { items: [{ productId: tea.id, quantity: 1 }] });
    expect(expectError(await post(`/admin/orders/${created.id}/ship`, admin, {}), 40911)).toEqual({
      status: 'pending_payment',
    });
    expectOk(await post(`/orders/${created.id}/pay`, buyer));
    expectOk(await post(`/sandbox/orders/${created.id}/pay`, buyer));
    expect(expectError(await post(`/orders/${created.id}/confirm`, buyer), 40911)).toEqual({
      status: 'paid',
    });
    expectError(await post(`/admin/orders/${created.id}/ship`, buyer, {}), 40300);
    const shipped = expectOk(
      await post(`/admin/orders/${created.id}/ship`, admin, { trackingNo: 'SF1234567890' }),
    );
    expect(shipped).toMatchObject({ status: 'shipped', trackingNo: 'SF1234567890' });
    const completed = expectOk(await post(`/orders/${created.id}/confirm`, buyer));
    expect(completed.status).toBe('completed');
    expect(completed.completedAt).not.toBeNull();
    const events = expectOk(await get(`/admin/orders/${created.id}`, admin)).events;
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'order_created',
      'order_paid',
      'order_shipped',
      'order_completed',
    ]);
  });

  it('lists: own orders newest first with a status filter; admins by user, status and outTradeNo', async () => {
    const tea = await product();
    const who = await h.login();
    const older = await placed(who, { items: [{ productId: tea.id, quantity: 1 }] });
    const newer = await placed(who, { items: [{ productId: tea.id, quantity: 1 }] });
    expectOk(await post(`/orders/${older.id}/cancel`, who));
    const mine = expectOk(await get('/orders', who));
    expect(mine).toMatchObject({ total: 2, page: 1, pageSize: 20 });
    expect(mine.items.map((o: { id: string }) => o.id)).toEqual([newer.id, older.id]);
    const cancelled = expectOk(await get('/orders?status=cancelled', who));
    expect(cancelled.items.map((o: { id: string }) => o.id)).toEqual([older.id]);
    expectValidationError(await get('/orders?status=lost', who), 'status');
    const byUser = expectOk(await get(`/admin/orders?userId=${who.user.id}&pageSize=1`, admin));
    expect([byUser.total, byUser.items.map((o: { id: string }) => o.id)]).toEqual([2, [newer.id]]);
    const byNo = expectOk(await get(`/admin/orders?outTradeNo=${older.outTradeNo}`, admin));
    expect(byNo.items.map((o: { id: string }) => o.id)).toEqual([older.id]);
    expectError(await get('/admin/orders', who), 40300);
  });

  it('refuses what the body may not hold: 400 / 40000', async () => {
    const tea = await product();
    const line = { productId: tea.id, quantity: 1 };
    const cases: Array<[object, string]> = [
      [{ items: [{ ...line, price: 1 }] }, 'items.0.price'],
      [{ items: [line], totalAmount: 1 }, 'totalAmount'],
      [{ items: [line], extra: true }, 'extra'],
      [{ items: [] }, 'items'],
      [{ items: Array.from({ length: 21 }, () => ({ productId: randomUUID(), quantity: 1 })) }, 'items'],
      [{ items: [line, { ...line }] }, 'items'],
      [{ items: [{ ...line, quantity: 0 }] }, 'items.0.quantity'],
      [{ items: [{ ...line, quantity: 100 }] }, 'items.0.quantity'],
      [{ items: [{ ...line, quantity: 1.5 }] }, 'items.0.quantity'],
      [{ items: [{ ...line, quantity: '1' }] }, 'items.0.quantity'],
      [{ items: [line], shippingAddress: { ...ADDRESS, telNumber: 'call me' } }, 'shippingAddress.telNumber'],
      [{ items: [line], shippingAddress: { ...ADDRESS, detailInfo: '' } }, 'shippingAddress.detailInfo'],
      [{ items: [line], shippingAddress: { ...ADDRESS, phone: '1' } }, 'shippingAddress.phone'],
      [{ items: [line], shippingAddress: 'home' }, 'shippingAddress'],
      [{}, 'items'],
    ];
    for (const [body, field] of cases) {
      expectValidationError(await order(buyer, body), field);
    }
    // wx.chooseAddress's errMsg is accepted and not kept.
    const kept = expectOk(
      await order(buyer, { items: [line], shippingAddress: { ...ADDRESS, errMsg: 'chooseAddress:ok' } }),
    );
    expect(kept.shippingAddress).toEqual(ADDRESS);
    // Actions without a body take none or {}, nothing else.
    expectValidationError(await post(`/orders/${kept.id}/cancel`, buyer, { reason: 'x' }), 'reason');
    expectValidationError(
      await post(`/admin/orders/${kept.id}/ship`, admin, { trackingNo: '' }),
      'trackingNo',
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'k'.repeat(65)],
    ['outside the alphabet', 'key with spaces'],
    ['with a byte outside ASCII', 'cl\u00e9'],
    ['with a slash', 'a/b'],
  ])('an Idempotency-Key %s is 400 / 40000 naming the header', async (_case, key) => {
    const tea = await product();
    const body = { items: [{ productId: tea.id, quantity: 1 }] };
    const req = h.http().post(`${API}/orders`).set('Authorization', buyer.bearer);
    const res = await (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
    expectValidationError(res, 'Idempotency-Key');
    expect(await stockOf(tea.id)).toBe(10);
  });

  it('accepts every character of the Idempotency-Key alphabet, up to 64', async () => {
    const tea = await product();
    const key = `Aa0._:-${randomUUID().replace(/-/g, '')}`.padEnd(64, 'z').slice(0, 64);
    expectOk(await order(buyer, { items: [{ productId: tea.id, quantity: 1 }] }, key));
  });

  it('the shipping address is never stored in plain text, and erasure blanks it on every order', async () => {
    const tea = await product();
    const customer = await h.login();
    const first = await placed(customer, {
      items: [{ productId: tea.id, quantity: 1 }],
      shippingAddress: ADDRESS,
    });
    await placed(customer, { items: [{ productId: tea.id, quantity: 1 }], shippingAddress: ADDRESS });
    const dump = await h.dumpDatabase();
    expect(dump).not.toContain('E2E-ADDRESS-MARK');
    expect(dump).not.toContain('020-81167888');
    const rows = (JSON.parse(dump) as { orders: Array<Record<string, unknown>> }).orders.filter(
      (row) => row.user_id === customer.user.id,
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(String(row.shipping_address_encrypted)).toMatch(/^v1\./);

    expectOk(await h.http().delete(`${API}/users/${customer.user.id}`).set('Authorization', admin.bearer));
    const after = (
      JSON.parse(await h.dumpDatabase()) as { orders: Array<Record<string, unknown>> }
    ).orders.filter((row) => row.user_id === customer.user.id);
    expect(after.map((row) => row.shipping_address_encrypted)).toEqual([null, null]);
    expect(expectOk(await get(`/orders/${first.id}`, admin)).shippingAddress).toBeNull();
  });

  it('the sandbox route is in the OpenAPI document, with every order route', async () => {
    const paths = Object.keys((await h.http().get('/api/docs-json')).body.paths as object);
    for (const path of [
      '/api/v1/orders',
      '/api/v1/orders/{id}',
      '/api/v1/orders/{id}/pay',
      '/api/v1/orders/{id}/cancel',
      '/api/v1/orders/{id}/confirm',
      '/api/v1/admin/orders',
      '/api/v1/admin/orders/{id}',
      '/api/v1/admin/orders/{id}/ship',
      '/api/v1/sandbox/orders/{id}/pay',
    ]) {
      expect([path, paths.includes(path)]).toEqual([path, true]);
    }
  });
});

describe('orders with WECHAT_PAY_MODE=off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { WECHAT_PAY_MODE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the sandbox route is absent from the routes and the OpenAPI document; pay is 503 / 50301', async () => {
    const admin = await h.loginAdmin();
    const buyer = await h.login();
    const tea = expectOk(
      await h
        .http()
        .post(`${API}/products`)
        .set('Authorization', admin.bearer)
        .send({ title: 'Tea', price: 100, stock: 3 }),
    );
    const created = expectOk(
      await h
        .http()
        .post(`${API}/orders`)
        .set('Authorization', buyer.bearer)
        .set('Idempotency-Key', 'off-1')
        .send({ items: [{ productId: tea.id, quantity: 1 }] }),
    );
    expectError(
      await h.http().post(`${API}/orders/${created.id}/pay`).set('Authorization', buyer.bearer),
      50301,
    );
    expectError(
      await h.http().post(`${API}/sandbox/orders/${created.id}/pay`).set('Authorization', buyer.bearer),
      40400,
    );
    const paths = Object.keys((await h.http().get('/api/docs-json')).body.paths as object);
    expect(paths.filter((p) => p.includes('sandbox'))).toEqual([]);
    // Never prepaid: the cancel needs no WeChat Pay.
    expect(
      expectOk(await h.http().post(`${API}/orders/${created.id}/cancel`).set('Authorization', buyer.bearer))
        .status,
    ).toBe('cancelled');
  });
});
