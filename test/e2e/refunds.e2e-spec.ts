import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RefundQueryPoller } from '../../src/orders/refund-query.poller.js';
import {
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import { FakeWechatPay } from '../support/fake-wechat-pay.js';
import type { BuiltNotification } from '../support/fake-wechat-pay-wire.js';

const API = '/api/v1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The calls every refund test makes, for one harness. */
function shop(get: () => { h: Harness; admin: LoginResult; buyer: LoginResult }) {
  const post = (path: string, who: LoginResult, body?: object, headers: Record<string, string> = {}) => {
    const req = get().h.http().post(`${API}${path}`).set('Authorization', who.bearer).set(headers);
    return body === undefined ? req : req.send(body);
  };
  const refund = (id: string, body: object, who = get().admin) =>
    post(`/admin/orders/${id}/refund`, who, body);
  const adminOrder = async (id: string): Promise<Json> =>
    expectOk(await get().h.http().get(`${API}/admin/orders/${id}`).set('Authorization', get().admin.bearer));
  /** A pending order of the buyer for `price` fen, with a prepay at WeChat Pay. */
  const prepaid = async (price: number): Promise<Json> => {
    const { admin, buyer } = get();
    const product = expectOk(
      await post('/products', admin, { title: `Tea ${randomUUID().slice(0, 8)}`, price, stock: 50 }),
    );
    const order = expectOk(
      await post(
        '/orders',
        buyer,
        { items: [{ productId: product.id, quantity: 1 }] },
        { 'Idempotency-Key': randomUUID() },
      ),
    );
    expectOk(await post(`/orders/${order.id}/pay`, buyer));
    return order;
  };
  return { post, refund, adminOrder, prepaid };
}

describe('refunds: POST /api/v1/admin/orders/:id/refund (sandbox WeChat Pay)', () => {
  let h: Harness;
  let admin: LoginResult;
  let buyer: LoginResult;
  const { post, refund, adminOrder, prepaid } = shop(() => ({ h, admin, buyer }));

  /** A paid order: sandbox-paid after its prepay. */
  const paid = async (price = 1000): Promise<Json> => {
    const order = await prepaid(price);
    expect(expectOk(await post(`/sandbox/orders/${order.id}/pay`, buyer)).status).toBe('paid');
    return order;
  };

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
    buyer = await h.login();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a partial refund, then one of all the rest: paid → refunded, each refund last in the answer', async () => {
    const order = await paid(1000);
    const partial = expectOk(await refund(order.id, { amount: 300, reason: '少发一件' }));
    expect(partial).toMatchObject({ id: order.id, status: 'paid', refundedAmount: 300 });
    expect(partial.refunds).toHaveLength(1);
    const first = partial.refunds[0];
    expect(Object.keys(first).sort()).toEqual([
      'amount',
      'completedAt',
      'createdAt',
      'id',
      'outRefundNo',
      'reason',
      'status',
    ]);
    // The sandbox's REFUND.SUCCESS reaches the service before its refund call answers.
    expect(first).toMatchObject({ amount: 300, reason: '少发一件', status: 'succeeded' });
    expect(first.outRefundNo).toMatch(/^\d{32}$/);
    expect(Number.isNaN(Date.parse(first.completedAt))).toBe(false);

    const rest = expectOk(await refund(order.id, { reason: 'the rest' }));
    expect(rest).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    expect(rest.refunds.map((r: Json) => [r.amount, r.status])).toEqual([
      [300, 'succeeded'],
      [700, 'succeeded'],
    ]);
    expect(rest.refunds[1].outRefundNo > first.outRefundNo).toBe(true);

    const detail = await adminOrder(order.id);
    expect(detail.events.map((e: Json) => e.type)).toEqual([
      'order_created',
      'order_paid',
      'refund_requested',
      'refund_succeeded',
      'refund_requested',
      'refund_succeeded',
    ]);
    // Nothing remains: another refund is a state conflict now.
    expect(expectError(await refund(order.id, { amount: 1, reason: 'more' }), 40911)).toEqual({
      status: 'refunded',
    });
    const metrics = (await h.http().get('/metrics')).text;
    expect(metrics).toMatch(/orders_total\{status="refunded"\} [1-9]/);
    expect(metrics).toMatch(/pay_notifications_total\{kind="refund",result="applied"\} [1-9]/);
  });

  it('over what remains refundable: 409 / 40913 with data.refundable, nothing recorded', async () => {
    const order = await paid(1000);
    expectOk(await refund(order.id, { amount: 400, reason: 'part' }));
    expect(expectError(await refund(order.id, { amount: 601, reason: 'too much' }), 40913)).toEqual({
      refundable: 600,
    });
    expect((await adminOrder(order.id)).refunds).toHaveLength(1);
  });

  it('a shipped and a completed order can be refunded; they keep their status on a partial refund', async () => {
    const shipped = await paid(500);
    expectOk(await post(`/admin/orders/${shipped.id}/ship`, admin, { trackingNo: 'SF1' }));
    expect(expectOk(await refund(shipped.id, { amount: 100, reason: 'x' })).status).toBe('shipped');
    expectOk(await post(`/orders/${shipped.id}/confirm`, buyer));
    expect(expectOk(await refund(shipped.id, { amount: 100, reason: 'y' })).status).toBe('completed');
    expect(expectOk(await refund(shipped.id, { reason: 'z' }))).toMatchObject({
      status: 'refunded',
      refundedAmount: 500,
    });
  });

  it('concurrent refunds never go beyond the total', async () => {
    const order = await paid(1000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => refund(order.id, { amount: 300, reason: 'race' })),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(3);
    for (const r of answers.filter((a) => a.status !== 200))
      expect(expectError(r, 40913)).toEqual({ refundable: 100 });
    const after = await adminOrder(order.id);
    expect(after.refundedAmount).toBe(900);
    expect(after.refunds.map((r: Json) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('an order not paid: 409 / 40911 with its status; unknown: 404; a non-admin: 403', async () => {
    const order = await prepaid(100);
    expect(expectError(await refund(order.id, { reason: 'x' }), 40911)).toEqual({
      status: 'pending_payment',
    });
    expectError(await refund(randomUUID(), { reason: 'x' }), 40400);
    expectError(await refund(order.id, { reason: 'x' }, buyer), 40300);
  });

  it.each([
    ['reason missing', {}, 'reason'],
    ['reason empty', { reason: '' }, 'reason'],
    ['reason of 81 characters', { reason: 'x'.repeat(81) }, 'reason'],
    ['amount 0', { amount: 0, reason: 'x' }, 'amount'],
    ['amount 1.5', { amount: 1.5, reason: 'x' }, 'amount'],
    ['amount as a string', { amount: '100', reason: 'x' }, 'amount'],
    ['amount null', { amount: null, reason: 'x' }, 'amount'],
    ['an unknown field', { reason: 'x', total: 1 }, 'total'],
  ])('%s: 400 / 40000', async (_label, body, field) => {
    const order = await paid(100);
    expectValidationError(await refund(order.id, body), field);
    expect((await adminOrder(order.id)).refunds).toEqual([]);
  });

  it('a reason of 80 characters (Chinese) is accepted', async () => {
    const order = await paid(100);
    expect(expectOk(await refund(order.id, { reason: '退'.repeat(80) })).status).toBe('refunded');
  });
});

describe('refunds in live mode (fake WeChat Pay)', () => {
  let pay: FakeWechatPay;
  let h: Harness;
  let admin: LoginResult;
  let buyer: LoginResult;
  const { refund, adminOrder, prepaid } = shop(() => ({ h, admin, buyer }));

  const deliver = async (n: BuiltNotification, path: string) => {
    const { port } = h.app.getHttpServer().address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${API}${path}`, {
      method: 'POST',
      headers: { ...n.headers, 'content-type': 'application/json' },
      body: n.body,
    });
    return res.status;
  };
  const paid = async (price = 1000): Promise<Json> => {
    const order = await prepaid(price);
    pay.pay(order.outTradeNo);
    expect(await deliver(pay.transactionNotification(order.outTradeNo), '/pay/notify')).toBe(204);
    return order;
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

  it('sent as the contract says; PROCESSING stays processing until REFUND.SUCCESS arrives', async () => {
    const order = await paid(1000);
    const answer = expectOk(await refund(order.id, { amount: 250, reason: 'damaged' }));
    expect(answer).toMatchObject({ status: 'paid', refundedAmount: 0 });
    const [created] = answer.refunds;
    expect(created).toMatchObject({ amount: 250, status: 'processing', completedAt: null });
    const [call] = pay.callsOf('refund');
    expect(JSON.parse(call.body)).toEqual({
      out_trade_no: order.outTradeNo,
      out_refund_no: created.outRefundNo,
      reason: 'damaged',
      notify_url: 'https://shop.example.com/api/v1/pay/refund-notify',
      amount: { refund: 250, total: 1000, currency: 'CNY' },
    });

    pay.settleRefund(created.outRefundNo, 'SUCCESS');
    const notification = pay.refundNotification(created.outRefundNo);
    expect(await deliver(notification, '/pay/refund-notify')).toBe(204);
    expect(await deliver(notification, '/pay/refund-notify')).toBe(204);
    const after = await adminOrder(order.id);
    expect(after).toMatchObject({ status: 'paid', refundedAmount: 250 });
    expect(after.refunds[0].status).toBe('succeeded');
    expect(after.events.filter((e: Json) => e.type === 'refund_succeeded')).toHaveLength(1);
  });

  it('concurrent refunds hold their amounts while processing: never beyond the total', async () => {
    const order = await paid(1000);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => refund(order.id, { amount: 300, reason: 'race' })),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(3);
    for (const r of answers.filter((a) => a.status !== 200))
      expect(expectError(r, 40913)).toEqual({ refundable: 100 });
    expect(
      pay.callsOf('refund').filter((c) => JSON.parse(c.body).out_trade_no === order.outTradeNo),
    ).toHaveLength(3);
    // The last 100 is all that remains: the order waits in `refunding` for the four.
    expect(expectOk(await refund(order.id, { reason: 'rest' })).status).toBe('refunding');
    expect(expectError(await refund(order.id, { amount: 1, reason: 'more' }), 40911)).toEqual({
      status: 'refunding',
    });
  });

  it('refused by WeChat Pay: 502 / 50201, the refund failed (refund_failed), the amount free again', async () => {
    const order = await paid(1000);
    pay.failNext('refund', { status: 403, code: 'NOT_ENOUGH', message: '商户余额不足' });
    expect(expectError(await refund(order.id, { reason: 'all' }), 50201)).toEqual({
      wechatPayCode: 'NOT_ENOUGH',
      httpStatus: 403,
    });
    const after = await adminOrder(order.id);
    expect(after).toMatchObject({ status: 'paid', refundedAmount: 0 });
    expect(after.refunds.map((r: Json) => r.status)).toEqual(['failed']);
    expect(after.refunds[0].completedAt).not.toBeNull();
    expect(after.events.map((e: Json) => e.type).slice(-2)).toEqual(['refund_requested', 'refund_failed']);
    expect(expectOk(await refund(order.id, { amount: 1000, reason: 'again' })).refunds[1].status).toBe(
      'processing',
    );
  });

  it('no answer: 504 / 50400, it stays processing; the query 60 s later ends it', async () => {
    const order = await paid(800);
    pay.failNext('refund', 'reset');
    expectError(await refund(order.id, { reason: 'all' }), 50400);
    let after = await adminOrder(order.id);
    expect(after.status).toBe('refunding');
    const [processing] = after.refunds;
    expect(processing.status).toBe('processing');

    const poller = h.app.get(RefundQueryPoller);
    const created = Date.parse(processing.createdAt);
    // The refunds of the other tests, still processing, are queried too: count this one's only.
    const queries = () =>
      pay.callsOf('refund_query').filter((c) => c.pathAndQuery.endsWith(processing.outRefundNo));
    await poller.tick(new Date(created + 59_000));
    expect(queries()).toHaveLength(0);
    // WeChat Pay never got it (404): sent again with the same out_refund_no; PROCESSING there.
    await poller.tick(new Date(created + 60_000));
    expect(queries()).toHaveLength(1);
    expect(JSON.parse(pay.callsOf('refund').at(-1)!.body).out_refund_no).toBe(processing.outRefundNo);
    expect((await adminOrder(order.id)).refunds[0].status).toBe('processing');

    pay.settleRefund(processing.outRefundNo, 'SUCCESS');
    await poller.tick(new Date(created + 120_000));
    after = await adminOrder(order.id);
    expect(after).toMatchObject({ status: 'refunded', refundedAmount: 800 });
    expect(after.refunds[0].status).toBe('succeeded');
  });

  it('an answer that fails verification: 502 / 50202, it stays processing; REFUND.CLOSED frees it', async () => {
    const order = await paid(600);
    pay.failNext('refund', 'bad_signature');
    expectError(await refund(order.id, { reason: 'all' }), 50202);
    const [processing] = (await adminOrder(order.id)).refunds;
    expect(processing.status).toBe('processing');
    pay.settleRefund(processing.outRefundNo, 'CLOSED');
    expect(await deliver(pay.refundNotification(processing.outRefundNo), '/pay/refund-notify')).toBe(204);
    const after = await adminOrder(order.id);
    expect(after).toMatchObject({ status: 'paid', refundedAmount: 0 });
    expect(after.refunds[0].status).toBe('closed');
    expect(after.events.map((e: Json) => e.type).slice(-2)).toEqual(['refund_requested', 'refund_failed']);
  });

  it('a refund notification with another amount: 204, rejected, the refund unchanged', async () => {
    const order = await paid(500);
    const [created] = expectOk(await refund(order.id, { amount: 100, reason: 'x' })).refunds;
    pay.settleRefund(created.outRefundNo, 'SUCCESS');
    const wrong = pay.refundNotification(created.outRefundNo, {
      overrides: { amount: { total: 500, refund: 200, payer_total: 500, payer_refund: 200 } },
    });
    expect(await deliver(wrong, '/pay/refund-notify')).toBe(204);
    const after = await adminOrder(order.id);
    expect(after.refunds[0].status).toBe('processing');
    expect(after.events.at(-1).type).toBe('notify_rejected');
  });
});
