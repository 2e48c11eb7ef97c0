import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { OrderExpiryPoller } from '../../src/orders/order-expiry.poller.js';
import { OrderSettlement } from '../../src/orders/order-settlement.service.js';
import {
  expectError,
  expectOk,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import { FakeWechatPay } from '../support/fake-wechat-pay.js';

const API = '/api/v1';
const TTL_SECONDS = 5;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('expiry of unpaid orders (ORDER_PAYMENT_TTL=5, live mode against the fake WeChat Pay)', () => {
  let pay: FakeWechatPay;
  let h: Harness;
  let admin: LoginResult;
  let buyer: LoginResult;
  let poller: OrderExpiryPoller;

  const post = (path: string, who: LoginResult, body?: object, headers: Record<string, string> = {}) => {
    const req = h.http().post(`${API}${path}`).set('Authorization', who.bearer).set(headers);
    return body === undefined ? req : req.send(body);
  };
  const adminOrder = async (id: string): Promise<Json> =>
    expectOk(await h.http().get(`${API}/admin/orders/${id}`).set('Authorization', admin.bearer));
  const stockOf = async (id: string): Promise<number> =>
    expectOk(await h.http().get(`${API}/admin/products/${id}`).set('Authorization', admin.bearer)).stock;

  /** An order of 2 units of a product of 10; with `prepay`, WeChat Pay knows it (NOTPAY). */
  const placed = async (prepay: boolean): Promise<{ order: Json; productId: string }> => {
    const product = expectOk(
      await post('/products', admin, { title: `Tea ${randomUUID().slice(0, 8)}`, price: 990, stock: 10 }),
    );
    const order = expectOk(
      await post(
        '/orders',
        buyer,
        { items: [{ productId: product.id, quantity: 2 }] },
        { 'Idempotency-Key': randomUUID() },
      ),
    );
    expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt)).toBe(TTL_SECONDS * 1000);
    if (prepay) expectOk(await post(`/orders/${order.id}/pay`, buyer));
    return { order, productId: product.id };
  };
  /** A moment `ms` after the order's expiresAt, as the poller is told it is now. */
  const after = (order: Json, ms: number) => new Date(Date.parse(order.expiresAt) + ms);

  beforeAll(async () => {
    pay = await FakeWechatPay.start();
    h = await startHarness({ env: { ...pay.serviceEnv(), ORDER_PAYMENT_TTL: String(TTL_SECONDS) } });
    admin = await h.loginAdmin();
    buyer = await h.login();
    poller = h.app.get(OrderExpiryPoller);
  });
  afterAll(async () => {
    await h?.close();
    await pay?.close();
  });

  it('never prepaid: cancelled / expired at once, no WeChat Pay call, the stock back exactly once', async () => {
    const { order, productId } = await placed(false);
    expect(await stockOf(productId)).toBe(8);
    await poller.tick(after(order, -1));
    expect((await adminOrder(order.id)).status).toBe('pending_payment');

    const calls = pay.calls.length;
    await poller.tick(after(order, 1));
    const expired = await adminOrder(order.id);
    expect(expired).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
    expect(Number.isNaN(Date.parse(expired.cancelledAt))).toBe(false);
    expect(expired.events.map((e: Json) => e.type)).toEqual(['order_created', 'order_expired']);
    expect(pay.calls.length).toBe(calls);
    expect(await stockOf(productId)).toBe(10);

    await poller.tick(after(order, 120_000));
    expect(await stockOf(productId)).toBe(10);
    expect(expectError(await post(`/orders/${order.id}/pay`, buyer), 40911)).toEqual({ status: 'cancelled' });
  });

  it('prepaid and unpaid: closed at WeChat Pay, then queried (CLOSED) → cancelled / expired', async () => {
    const { order, productId } = await placed(true);
    await poller.tick(after(order, 1000));
    expect((await adminOrder(order.id)).status).toBe('cancelled');
    expect(pay.orders.get(order.outTradeNo)!.tradeState).toBe('CLOSED');
    expect(pay.callsOf('close').some((c) => c.pathAndQuery.includes(order.outTradeNo))).toBe(true);
    expect(await stockOf(productId)).toBe(10);
  });

  it('paid at WeChat Pay at the last moment, no notification yet: the query says SUCCESS → paid, never cancelled', async () => {
    const { order, productId } = await placed(true);
    const paidThere = pay.pay(order.outTradeNo);
    await poller.tick(after(order, 1000));
    const paid = await adminOrder(order.id);
    expect(paid).toMatchObject({
      status: 'paid',
      transactionId: paidThere.transactionId,
      cancelReason: null,
    });
    expect(paid.events.map((e: Json) => e.type)).toEqual(['order_created', 'order_paid']);
    expect(await stockOf(productId)).toBe(8);
    // The notification arriving afterwards is a repeat of what was applied.
    const { port } = h.app.getHttpServer().address() as { port: number };
    const n = pay.transactionNotification(order.outTradeNo);
    const res = await fetch(`http://127.0.0.1:${port}${API}/pay/notify`, {
      method: 'POST',
      headers: { ...n.headers, 'content-type': 'application/json' },
      body: n.body,
    });
    expect(res.status).toBe(204);
    expect((await adminOrder(order.id)).events.map((e: Json) => e.type)).toEqual([
      'order_created',
      'order_paid',
    ]);
  });

  it('WeChat Pay not answering: left pending, tried again 30 s later (not before), then settled', async () => {
    const { order, productId } = await placed(true);
    pay.failNext('close', 'reset');
    const first = after(order, 1000);
    await poller.tick(first);
    expect((await adminOrder(order.id)).status).toBe('pending_payment');
    const closes = pay.callsOf('close').length;
    await poller.tick(new Date(first.getTime() + 29_000));
    expect(pay.callsOf('close').length).toBe(closes);
    await poller.tick(new Date(first.getTime() + 30_000));
    expect(pay.callsOf('close').length).toBe(closes + 1);
    expect((await adminOrder(order.id)).status).toBe('cancelled');
    expect(await stockOf(productId)).toBe(10);
  });

  it('another instance (or this one after a restart) finds an overdue order in the database and settles it once', async () => {
    const { order, productId } = await placed(true);
    let second: NestFastifyApplication | undefined;
    try {
      second = await createApp(h.env, { logger: false });
      const other = second.get(OrderExpiryPoller);
      const at = after(order, 1000);
      await Promise.all([other.tick(at), poller.tick(at)]);
    } finally {
      await second?.close();
    }
    const settled = await adminOrder(order.id);
    expect(settled.status).toBe('cancelled');
    expect(settled.events.map((e: Json) => e.type)).toEqual(['order_created', 'order_expired']);
    expect(await stockOf(productId)).toBe(10);
  });

  it('the running service settles an overdue order on its own, within 10 s of expiresAt', async () => {
    // Awaits the service's own settlement of this order (nothing but its timer starts it), then
    // reads the answer a client would get.
    const settlement = h.app.get(OrderSettlement);
    const settle = settlement.settle.bind(settlement);
    let settledAt = 0;
    let settledNow!: () => void;
    const settled = new Promise<void>((resolve) => (settledNow = resolve));
    const { order } = await placed(false);
    const spy = jest.spyOn(settlement, 'settle').mockImplementation(async (...args) => {
      const result = await settle(...args);
      if (args[0].id === order.id) {
        settledAt = Date.now();
        settledNow();
      }
      return result;
    });
    try {
      await settled;
    } finally {
      spy.mockRestore();
    }
    expect(settledAt).toBeLessThanOrEqual(Date.parse(order.expiresAt) + 10_000);
    const answer = await adminOrder(order.id);
    expect([answer.status, answer.cancelReason]).toEqual(['cancelled', 'expired']);
  }, 20_000);
});
