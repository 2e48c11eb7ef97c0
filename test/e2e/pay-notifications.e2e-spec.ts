import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expectOk, startHarness, type Harness, type LoginResult } from '../support/app-harness.js';
import { FakeWechatPay } from '../support/fake-wechat-pay.js';
import { nowSeconds, signedHeaders, type BuiltNotification } from '../support/fake-wechat-pay-wire.js';

const API = '/api/v1';
const NOTIFY = `${API}/pay/notify`;
const REFUND_NOTIFY = `${API}/pay/refund-notify`;

/** WeChat Pay's own answer for anything it must send again: exactly `{"code":"FAIL","message"}`. */
function expectFail(
  res: { status: number; text: string; headers: Record<string, string> },
  status: number,
): string {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text}`);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message']);
  expect(body.code).toBe('FAIL');
  expect(typeof body.message).toBe('string');
  expect((body.message as string).length).toBeGreaterThan(0);
  return body.message as string;
}

describe('WeChat Pay notifications: POST /api/v1/pay/notify and /pay/refund-notify (live mode, fake WeChat Pay)', () => {
  let pay: FakeWechatPay;
  let h: Harness;
  let admin: LoginResult;
  let buyer: LoginResult;

  /** Posts `body` with `headers` as WeChat Pay would: no token, the bytes exactly as given. */
  const post = async (
    path: string,
    headers: Record<string, string>,
    body: Buffer | string,
    type = 'application/json',
  ): Promise<{ status: number; text: string; headers: Record<string, string> }> => {
    const { port } = h.app.getHttpServer().address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': type, 'user-agent': 'Mozilla/4.0' },
      body: Buffer.from(body),
    });
    return { status: res.status, text: await res.text(), headers: Object.fromEntries(res.headers) };
  };
  const deliver = (n: BuiltNotification, path = NOTIFY) => post(path, n.headers, n.body);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const adminOrder = async (id: string): Promise<any> =>
    expectOk(await h.http().get(`${API}/admin/orders/${id}`).set('Authorization', admin.bearer));
  const eventsOf = async (id: string): Promise<string[]> =>
    (await adminOrder(id)).events.map((e: { type: string }) => e.type);

  /** An order of the buyer with a prepay at the fake: pending_payment, known there as NOTPAY. */
  const prepaidOrder = async (
    price = 1500,
  ): Promise<{ id: string; outTradeNo: string; totalAmount: number }> => {
    const product = expectOk(
      await h
        .http()
        .post(`${API}/products`)
        .set('Authorization', admin.bearer)
        .send({ title: `Tea ${randomUUID().slice(0, 8)}`, price, stock: 10 }),
    );
    const order = expectOk(
      await h
        .http()
        .post(`${API}/orders`)
        .set('Authorization', buyer.bearer)
        .set('Idempotency-Key', randomUUID())
        .send({ items: [{ productId: product.id, quantity: 1 }] }),
    );
    expectOk(await h.http().post(`${API}/orders/${order.id}/pay`).set('Authorization', buyer.bearer));
    return order;
  };

  const metric = async (kind: string, result: string): Promise<number> => {
    const text = (await h.http().get('/metrics')).text;
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`pay_notifications_total{kind="${kind}",result="${result}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  /** The audit entries without an order written from now on. */
  const orphanRejections = async (): Promise<number> => {
    const dump = JSON.parse(await h.dumpDatabase()) as Record<string, Array<Record<string, unknown>>>;
    return (dump.audit_events ?? []).filter((e) => e.event === 'notify_rejected' && e.order_id === null)
      .length;
  };

  beforeAll(async () => {
    pay = await FakeWechatPay.start();
    h = await startHarness({ env: pay.serviceEnv() });
    admin = await h.loginAdmin();
    buyer = await h.login();
  });
  afterAll(async () => {
    await h?.close();
    await pay?.close();
  });

  it('a signed notification posted raw: 204, no body, the order paid with its transaction id and success_time', async () => {
    const order = await prepaidOrder();
    const paid = pay.pay(order.outTradeNo, { successTime: '2026-12-01T15:30:00+08:00' });
    const applied = await metric('transaction', 'applied');
    const res = await deliver(pay.transactionNotification(order.outTradeNo));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const after = await adminOrder(order.id);
    expect(after).toMatchObject({
      status: 'paid',
      transactionId: paid.transactionId,
      paidAt: '2026-12-01T07:30:00.000Z',
    });
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['order_created', 'order_paid']);
    expect(await metric('transaction', 'applied')).toBe(applied + 1);
  });

  it('the same notification again: 204, nothing changes, no second event (counted duplicate)', async () => {
    const order = await prepaidOrder();
    pay.pay(order.outTradeNo);
    const notification = pay.transactionNotification(order.outTradeNo);
    expect((await deliver(notification)).status).toBe(204);
    const before = await adminOrder(order.id);
    const duplicates = await metric('transaction', 'duplicate');
    expect((await deliver(notification)).status).toBe(204);
    // WeChat Pay sends it again as a new delivery (new signature, same event): still a duplicate.
    expect((await deliver(pay.transactionNotification(order.outTradeNo))).status).toBe(204);
    const after = await adminOrder(order.id);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(await eventsOf(order.id)).toEqual(['order_created', 'order_paid']);
    expect(await metric('transaction', 'duplicate')).toBe(duplicates + 2);
  });

  it('concurrent duplicates are applied once: every delivery 204, one order_paid', async () => {
    const order = await prepaidOrder();
    pay.pay(order.outTradeNo);
    const notification = pay.transactionNotification(order.outTradeNo);
    const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(notification)));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(204));
    expect(await eventsOf(order.id)).toEqual(['order_created', 'order_paid']);
    expect((await adminOrder(order.id)).status).toBe('paid');
  });

  describe('what cannot be WeChat Pay’s: 401 FAIL, nothing changes, notify_rejected without an order', () => {
    const cases: Array<[string, (n: BuiltNotification) => BuiltNotification]> = [
      [
        'one byte of the body changed',
        (n) => {
          const body = Buffer.from(n.body);
          const at = body.indexOf('"summary"');
          body[at + 1] = 'S'.charCodeAt(0);
          return { headers: n.headers, body };
        },
      ],
      [
        'the body re-serialised (same JSON, other bytes)',
        (n) => ({
          headers: n.headers,
          body: Buffer.from(JSON.stringify(JSON.parse(n.body.toString()), null, 2)),
        }),
      ],
      [
        'an unknown serial',
        (n) => ({ headers: { ...n.headers, 'wechatpay-serial': 'PUB_KEY_ID_0000UNKNOWN' }, body: n.body }),
      ],
      [
        'a signature by another key',
        (n) => ({
          headers: {
            ...n.headers,
            'wechatpay-signature': signedHeaders(pay.merchant, n.body)['wechatpay-signature'],
          },
          body: n.body,
        }),
      ],
      [
        'the timestamp changed after signing',
        (n) => ({
          headers: {
            ...n.headers,
            'wechatpay-timestamp': String(Number(n.headers['wechatpay-timestamp']) - 1),
          },
          body: n.body,
        }),
      ],
      [
        'no Wechatpay-Signature',
        (n) => {
          const { 'wechatpay-signature': _signature, ...headers } = n.headers;
          return { headers: headers as BuiltNotification['headers'], body: n.body };
        },
      ],
      [
        'another signature type',
        (n) => ({
          headers: { ...n.headers, 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' },
          body: n.body,
        }),
      ],
    ];

    it.each(cases)('%s', async (_label, tamper) => {
      const order = await prepaidOrder();
      pay.pay(order.outTradeNo);
      const [invalid, orphans] = [await metric('transaction', 'invalid'), await orphanRejections()];
      expectFail(await deliver(tamper(pay.transactionNotification(order.outTradeNo))), 401);
      expect((await adminOrder(order.id)).status).toBe('pending_payment');
      expect(await eventsOf(order.id)).toEqual(['order_created']);
      expect(await metric('transaction', 'invalid')).toBe(invalid + 1);
      expect(await orphanRejections()).toBe(orphans + 1);
    });

    it('a timestamp 400 s old (signed as such)', async () => {
      const order = await prepaidOrder();
      pay.pay(order.outTradeNo);
      const stale = pay.transactionNotification(order.outTradeNo, { timestamp: nowSeconds() - 400 });
      expectFail(await deliver(stale), 401);
      expect((await adminOrder(order.id)).status).toBe('pending_payment');
    });

    it('no Wechatpay-* header at all, and an empty body', async () => {
      const bare = await h.http().post(NOTIFY);
      expectFail({ status: bare.status, text: bare.text, headers: bare.headers }, 401);
      expectFail(await post(NOTIFY, {}, '{}'), 401);
    });

    it('the refund route the same way', async () => {
      expectFail(await post(REFUND_NOTIFY, {}, '{"id":"EV-1"}'), 401);
    });
  });

  it('signed but not JSON (whatever the content type): 400 FAIL, notify_rejected without an order', async () => {
    const orphans = await orphanRejections();
    for (const [body, type] of [
      ['not json at all', 'application/json'],
      ['<xml><return_code>SUCCESS</return_code></xml>', 'text/xml'],
      ['plain words', 'text/plain'],
    ]) {
      expectFail(await post(NOTIFY, signedHeaders(pay.signingKey, body), body, type), 400);
    }
    expect(await orphanRejections()).toBe(orphans + 3);
  });

  it('signed, but a resource that does not decrypt (another APIv3 key): 400 FAIL', async () => {
    const order = await prepaidOrder();
    pay.pay(order.outTradeNo);
    const other = pay.transactionNotification(order.outTradeNo, { apiV3Key: 'x'.repeat(32) });
    expectFail(await deliver(other), 400);
    expect((await adminOrder(order.id)).status).toBe('pending_payment');
  });

  it.each([
    ['another amount', (total: number) => ({ amount: total + 1 })],
    ['another mchid', () => ({ overrides: { mchid: '1900000001' } })],
    ['another appid', () => ({ overrides: { appid: 'wxffffffffffffffff' } })],
    ['a trade_state other than SUCCESS', () => ({ overrides: { trade_state: 'NOTPAY' } })],
  ])('verified but %s: 204, the order unchanged, notify_rejected on it', async (_label, options) => {
    const order = await prepaidOrder();
    pay.pay(order.outTradeNo);
    const rejected = await metric('transaction', 'rejected');
    const res = await deliver(pay.transactionNotification(order.outTradeNo, options(order.totalAmount)));
    expect(res.status).toBe(204);
    const after = await adminOrder(order.id);
    expect(after.status).toBe('pending_payment');
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['order_created', 'notify_rejected']);
    expect(await metric('transaction', 'rejected')).toBe(rejected + 1);
    // The real one still pays it afterwards.
    expect((await deliver(pay.transactionNotification(order.outTradeNo))).status).toBe(204);
    expect((await adminOrder(order.id)).status).toBe('paid');
  });

  it('verified, for an order this service does not have: 204 and a notify_rejected without an order', async () => {
    const orphans = await orphanRejections();
    const res = await deliver(pay.transactionNotification('2'.repeat(32), { amount: 100 }));
    expect(res.status).toBe(204);
    expect(await orphanRejections()).toBe(orphans + 1);
  });

  it('a body over 1 MiB: 413 FAIL, never read as a notification, counted invalid with notify_rejected', async () => {
    const [invalid, orphans] = [await metric('transaction', 'invalid'), await orphanRejections()];
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expectFail(await post(NOTIFY, signedHeaders(pay.signingKey, big), big), 413);
    expect(await metric('transaction', 'invalid')).toBe(invalid + 1);
    expect(await orphanRejections()).toBe(orphans + 1);
    // Exactly 1 MiB is read (and, not being JSON, is 400).
    const limit = Buffer.alloc(1024 * 1024, 0x20);
    expectFail(await post(NOTIFY, signedHeaders(pay.signingKey, limit), limit), 400);
  });

  it('other routes still parse JSON as before and refuse other content types', async () => {
    const res = await h
      .http()
      .post(`${API}/auth/wechat/login`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('code=abc');
    expect([res.status, res.body.code]).toEqual([400, 40000]);
  });
});

describe('notification routes with WECHAT_PAY_MODE=off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { WECHAT_PAY_MODE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([NOTIFY, REFUND_NOTIFY])('%s answers 503 FAIL (WeChat Pay sends it again later)', async (path) => {
    const res = await h.http().post(path).set('Content-Type', 'application/json').send('{}');
    expectFail({ status: res.status, text: res.text, headers: res.headers }, 503);
  });
});
