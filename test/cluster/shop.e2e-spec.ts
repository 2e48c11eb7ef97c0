/**
 * The shop's guarantees that only several copies of the built service can break: stock reserved by
 * an atomic step in the database (never a read-then-write in one process), notifications applied
 * once whichever copy receives them, and unpaid orders settled once by pollers that share leases in
 * the database, after a restart too.
 *
 * The instances run WeChat Pay in live mode against the fake WeChat Pay server (in this process,
 * so the test signs notifications with its keys and counts its calls).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { Response } from 'supertest';
import { ADMIN_OPENIDS, APP_ID, MARIADB_ROOT_URL, expectError, expectOk } from '../support/app-harness.js';
import { FakeWechatPay } from '../support/fake-wechat-pay.js';
import { Cluster, waitUntil, type ClusterLogin, type Instance } from '../support/instances.js';

const API = '/api/v1';
/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 120_000;
/** The shortest ORDER_PAYMENT_TTL the service accepts, for the expiry tests. */
const SHORT_TTL_SECONDS = 5;
/** The contract: with WeChat Pay answering, an overdue order is settled within 10 s. */
const SETTLE_WITHIN_MS = 10_000;

interface ProductView {
  id: string;
  stock: number;
}
interface OrderView {
  id: string;
  outTradeNo: string;
  status: string;
  totalAmount: number;
  cancelReason: string | null;
  transactionId: string | null;
  expiresAt: string;
  cancelledAt: string | null;
  paidAt: string | null;
}
interface AdminOrderView extends OrderView {
  events: Array<{ type: string; createdAt: string; detail: string }>;
}

describe('the shop across instances (MariaDB, Redis, live WeChat Pay against its fake)', () => {
  let pay: FakeWechatPay;
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let admin: ClusterLogin;

  const placeOrder = (
    instance: Instance,
    who: ClusterLogin,
    productId: string,
    quantity = 1,
    key: string = randomUUID(),
  ): Promise<Response> =>
    instance
      .http()
      .post(`${API}/orders`)
      .set('Authorization', who.bearer)
      .set('Idempotency-Key', key)
      .send({ items: [{ productId, quantity }] }) as unknown as Promise<Response>;
  const ownerPost = (instance: Instance, who: ClusterLogin, path: string): Promise<Response> =>
    instance
      .http()
      .post(`${API}${path}`)
      .set('Authorization', who.bearer)
      .send({}) as unknown as Promise<Response>;
  const newProduct = async (via: Instance, stock: number, price = 990): Promise<ProductView> =>
    expectOk(
      await via
        .http()
        .post(`${API}/products`)
        .set('Authorization', admin.bearer)
        .send({ title: `Cluster tea ${randomUUID().slice(0, 8)}`, price, stock }),
    ) as ProductView;
  const stockOf = async (instance: Instance, productId: string): Promise<number> =>
    (
      expectOk(
        await instance.http().get(`${API}/admin/products/${productId}`).set('Authorization', admin.bearer),
      ) as ProductView
    ).stock;
  const adminOrder = async (instance: Instance, id: string): Promise<AdminOrderView> =>
    expectOk(
      await instance.http().get(`${API}/admin/orders/${id}`).set('Authorization', admin.bearer),
    ) as AdminOrderView;
  const eventsOf = (order: AdminOrderView, type: string) => order.events.filter((e) => e.type === type);
  const sumOver = async (
    instances: Instance[],
    name: string,
    labels: Record<string, string> = {},
  ): Promise<number> =>
    (await Promise.all(instances.map((instance) => instance.metric(name, labels)))).reduce(
      (x, y) => x + y,
      0,
    );
  const loginMany = (count: number, over: Instance[]): Promise<ClusterLogin[]> =>
    Promise.all(Array.from({ length: count }, (_, i) => cluster.login(over[i % over.length])));
  /** Rows read straight from the database (no instance needs to be up). */
  const ordersInDb = async (ids: string[]): Promise<Array<{ id: string; status: string }>> => {
    const conn = await mysql.createConnection(`${MARIADB_ROOT_URL}/${cluster.databaseName}`);
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(
        'SELECT id, status FROM orders WHERE id IN (?)',
        [ids],
      );
      return rows.map((row) => ({ id: String(row.id), status: String(row.status) }));
    } finally {
      await conn.end();
    }
  };
  const closeCallsFor = (outTradeNo: string) =>
    pay.callsOf('close').filter((call) => call.pathAndQuery.includes(`/out-trade-no/${outTradeNo}/close`));

  beforeAll(async () => {
    pay = await FakeWechatPay.start({ appId: APP_ID });
    cluster = await Cluster.create({
      redisDb: 13,
      env: {
        RATE_LIMIT_ENABLED: 'false',
        // Generous: 100 requests at once on each instance of a 2-core machine must not time out.
        WECHAT_TIMEOUT_MS: '5000',
        ...pay.serviceEnv(),
      },
    });
    [a, b] = await cluster.start(2);
    admin = await cluster.login(a, ADMIN_OPENIDS[0]);
    expect(admin.user.role).toBe('admin');
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    try {
      await cluster?.close();
    } finally {
      await pay?.close();
    }
  }, TEST_TIMEOUT_MS);

  describe('stock', () => {
    it(
      '200 concurrent orders for 50 units over two instances: exactly 50 succeed, the rest 409 / 40910, stock never below 0',
      async () => {
        const product = await newProduct(a, 50);
        const buyers = await loginMany(200, [a, b]);
        const stockBefore = await sumOver([a, b], 'orders_total', { status: 'pending_payment' });

        // Both instances are read while the orders run: the stock seen never leaves 0..50.
        const seen: number[] = [];
        let placing = true;
        const watcher = (async () => {
          for (let i = 0; placing; i++) seen.push(await stockOf(i % 2 === 0 ? a : b, product.id));
        })();
        const answers = await Promise.all(
          buyers.map((buyer, i) => placeOrder(i % 2 === 0 ? a : b, buyer, product.id)),
        );
        placing = false;
        await watcher;

        const won = answers.filter((res) => res.status === 200);
        const lost = answers.filter((res) => res.status !== 200);
        expect({ won: won.length, lost: lost.length }).toEqual({ won: 50, lost: 150 });
        for (const res of lost) expect(expectError(res, 40910)).toEqual({ productIds: [product.id] });
        // Both instances sold some: the race really was across processes.
        const soldBy = (instance: Instance) =>
          answers.filter((res, i) => res.status === 200 && (i % 2 === 0 ? a : b) === instance).length;
        expect(soldBy(a)).toBeGreaterThan(0);
        expect(soldBy(b)).toBeGreaterThan(0);
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.filter((stock) => stock < 0 || stock > 50)).toEqual([]);
        expect(await stockOf(a, product.id)).toBe(0);
        expect(await stockOf(b, product.id)).toBe(0);
        expect((await sumOver([a, b], 'orders_total', { status: 'pending_payment' })) - stockBefore).toBe(50);

        const owners = new Map<string, ClusterLogin>();
        const orders: OrderView[] = [];
        answers.forEach((res, i) => {
          if (res.status !== 200) return;
          const order = expectOk(res) as OrderView;
          owners.set(order.id, buyers[i]);
          orders.push(order);
        });
        expect(new Set(orders.map((order) => order.outTradeNo)).size).toBe(50);
        expect(orders.every((order) => order.status === 'pending_payment')).toBe(true);
        const cancelledBefore = await sumOver([a, b], 'orders_total', { status: 'cancelled' });

        // Half are cancelled once each, alternating instances...
        const once = orders.slice(0, 25);
        const onceAnswers = await Promise.all(
          once.map((order, i) =>
            ownerPost(i % 2 === 0 ? b : a, owners.get(order.id)!, `/orders/${order.id}/cancel`),
          ),
        );
        for (const res of onceAnswers) {
          expect(expectOk(res)).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
        }
        expect(await stockOf(a, product.id)).toBe(25);

        // ...and the other half twice each, both copies of a cancel at once, one to each instance.
        const twice = orders.slice(25);
        const pairs = await Promise.all(
          twice.map((order) =>
            Promise.all(
              [a, b].map((instance) =>
                ownerPost(instance, owners.get(order.id)!, `/orders/${order.id}/cancel`),
              ),
            ),
          ),
        );
        for (const pair of pairs) {
          const statuses = pair.map((res) => res.status).sort();
          expect(statuses).toEqual([200, 409]);
          const winner = pair.find((res) => res.status === 200)!;
          const loser = pair.find((res) => res.status === 409)!;
          expect(expectOk(winner)).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
          expect(expectError(loser, 40911)).toEqual({ status: 'cancelled' });
        }

        // Every unit back exactly once.
        expect(await stockOf(a, product.id)).toBe(50);
        expect(await stockOf(b, product.id)).toBe(50);
        expect((await sumOver([a, b], 'orders_total', { status: 'cancelled' })) - cancelledBefore).toBe(50);
        const views = await Promise.all(orders.map((order, i) => adminOrder(i % 2 === 0 ? a : b, order.id)));
        for (const view of views) {
          expect(view).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
          expect(eventsOf(view, 'order_cancelled')).toHaveLength(1);
          expect(eventsOf(view, 'order_expired')).toHaveLength(0);
        }
        // And cancelling again gives nothing more back.
        const late = await ownerPost(b, owners.get(orders[0].id)!, `/orders/${orders[0].id}/cancel`);
        expect(expectError(late, 40911)).toEqual({ status: 'cancelled' });
        expect(await stockOf(b, product.id)).toBe(50);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('payment notifications', () => {
    it(
      'the same signed TRANSACTION.SUCCESS posted 10 times to each instance at once is applied once',
      async () => {
        const product = await newProduct(b, 10, 1500);
        const buyers = await loginMany(4, [a, b]);
        const orders: OrderView[] = [];
        for (const [i, buyer] of buyers.entries()) {
          const instance = i % 2 === 0 ? a : b;
          const order = expectOk(await placeOrder(instance, buyer, product.id, 2)) as OrderView;
          expectOk(await ownerPost(instance, buyer, `/orders/${order.id}/pay`));
          pay.pay(order.outTradeNo);
          orders.push(order);
        }
        const applied = await sumOver([a, b], 'pay_notifications_total', {
          kind: 'transaction',
          result: 'applied',
        });
        const duplicate = await sumOver([a, b], 'pay_notifications_total', {
          kind: 'transaction',
          result: 'duplicate',
        });

        // Every delivery of every order at once: 4 orders × 2 instances × 10 copies.
        const deliveries = orders.flatMap((order) => {
          const notification = pay.transactionNotification(order.outTradeNo);
          return [a, b].flatMap((instance) =>
            Array.from({ length: 10 }, () => pay.deliver(`${instance.url}${API}/pay/notify`, notification)),
          );
        });
        const answers = await Promise.all(deliveries);
        expect(answers.filter((answer) => answer.status !== 204)).toEqual([]);
        expect(answers.every((answer) => answer.body === '')).toBe(true);

        for (const [i, order] of orders.entries()) {
          const view = await adminOrder(i % 2 === 0 ? b : a, order.id);
          expect(view).toMatchObject({
            status: 'paid',
            transactionId: pay.orders.get(order.outTradeNo)!.transactionId,
          });
          expect(view.paidAt).not.toBeNull();
          expect(eventsOf(view, 'order_paid')).toHaveLength(1);
          expect(eventsOf(view, 'notify_rejected')).toHaveLength(0);
        }
        expect(
          (await sumOver([a, b], 'pay_notifications_total', { kind: 'transaction', result: 'applied' })) -
            applied,
        ).toBe(4);
        expect(
          (await sumOver([a, b], 'pay_notifications_total', { kind: 'transaction', result: 'duplicate' })) -
            duplicate,
        ).toBe(76);
        // Paid keeps the units (sold).
        expect(await stockOf(a, product.id)).toBe(2);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('expiry of unpaid orders', () => {
    let c: Instance;
    let d: Instance;
    let buyers: ClusterLogin[];
    const shortTtl = { ORDER_PAYMENT_TTL: String(SHORT_TTL_SECONDS) };

    /**
     * Orders on `over` (alternating), each of `quantity` units: the even ones also asked WeChat Pay
     * for a prepay (so settling them means close, then query), the odd ones never did.
     */
    const overdueSoon = async (
      over: Instance[],
      productId: string,
      count: number,
    ): Promise<Array<{ order: OrderView; prepaid: boolean }>> => {
      const made: Array<{ order: OrderView; prepaid: boolean }> = [];
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const instance = over[i % over.length];
          const buyer = buyers[i % buyers.length];
          const order = expectOk(await placeOrder(instance, buyer, productId, 2)) as OrderView;
          const prepaid = i % 2 === 0;
          if (prepaid) expectOk(await ownerPost(instance, buyer, `/orders/${order.id}/pay`));
          made[i] = { order, prepaid };
        }),
      );
      return made;
    };

    beforeAll(async () => {
      // The instances above used the default time to pay; two others poll with the short one.
      await Promise.all([a.kill(), b.kill()]);
      [c, d] = await cluster.start([shortTtl, shortTtl]);
      buyers = await loginMany(6, [c, d]);
    }, TEST_TIMEOUT_MS);

    it(
      'with two instances polling, each overdue order is settled exactly once, within 10 s of expiresAt',
      async () => {
        const product = await newProduct(c, 40);
        const made = await overdueSoon([c, d], product.id, 12);
        expect(await stockOf(c, product.id)).toBe(40 - 24);
        // One prepaid order is paid at WeChat Pay at the last moment, and no notification comes:
        // the query at expiry must find it paid, never cancel it.
        const lastMoment = made[0].order;
        pay.pay(lastMoment.outTradeNo);
        const expiredBefore = await sumOver([c, d], 'orders_total', { status: 'cancelled' });
        const paidBefore = await sumOver([c, d], 'orders_total', { status: 'paid' });

        const settled = await waitUntil(
          'every overdue order is settled',
          () => Promise.all(made.map(({ order }, i) => adminOrder(i % 2 === 0 ? c : d, order.id))),
          (views) => views.every((view) => view.status !== 'pending_payment'),
          Math.max(...made.map(({ order }) => Date.parse(order.expiresAt))) +
            SETTLE_WITHIN_MS +
            2_000 -
            Date.now(),
          250,
        );
        for (const [i, view] of settled.entries()) {
          const { order, prepaid } = made[i];
          if (order.id === lastMoment.id) {
            expect(view).toMatchObject({ status: 'paid', cancelReason: null, cancelledAt: null });
            expect(view.transactionId).toBe(pay.orders.get(order.outTradeNo)!.transactionId);
            expect(eventsOf(view, 'order_paid')).toHaveLength(1);
            expect(eventsOf(view, 'order_expired')).toHaveLength(0);
          } else {
            expect(view).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
            expect(Date.parse(view.cancelledAt!)).toBeGreaterThanOrEqual(Date.parse(order.expiresAt));
            expect(Date.parse(view.cancelledAt!) - Date.parse(order.expiresAt)).toBeLessThanOrEqual(
              SETTLE_WITHIN_MS,
            );
            expect(eventsOf(view, 'order_expired')).toHaveLength(1);
            expect(eventsOf(view, 'order_cancelled')).toHaveLength(0);
          }
          // One instance at a time per order: a prepaid order is closed once, the others never.
          expect(closeCallsFor(order.outTradeNo)).toHaveLength(prepaid ? 1 : 0);
        }
        // Every expired order gave its 2 units back once; the paid one kept its 2.
        expect(await stockOf(d, product.id)).toBe(40 - 2);
        expect((await sumOver([c, d], 'orders_total', { status: 'cancelled' })) - expiredBefore).toBe(11);
        expect((await sumOver([c, d], 'orders_total', { status: 'paid' })) - paidBefore).toBe(1);

        // Nothing is settled a second time by a later round of either poller (each looks at least
        // every 5 s, so two rounds of both have passed after this wait).
        await sleep(11_000);
        const later = await Promise.all(made.map(({ order }) => adminOrder(c, order.id)));
        for (const [i, view] of later.entries()) {
          expect(view.events).toEqual(settled[i].events);
          expect(view.status).toBe(settled[i].status);
        }
        expect(await stockOf(c, product.id)).toBe(40 - 2);
        expect(made.reduce((sum, { order }) => sum + closeCallsFor(order.outTradeNo).length, 0)).toBe(6);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'orders that fell due while no instance ran are settled within 10 s of one starting again',
      async () => {
        const product = await newProduct(d, 20);
        const made = await overdueSoon([c, d], product.id, 6);
        expect(await stockOf(c, product.id)).toBe(20 - 12);
        // Stopped before anything fell due: one gracefully, one as if it crashed.
        c.signal('SIGTERM');
        await Promise.all([c.exited, d.kill()]);
        const lastDue = Math.max(...made.map(({ order }) => Date.parse(order.expiresAt)));
        // Waiting for the clock: nothing runs that could announce it.
        await sleep(Math.max(0, lastDue + 1_000 - Date.now()));
        const ids = made.map(({ order }) => order.id);
        expect((await ordersInDb(ids)).map((row) => row.status)).toEqual(ids.map(() => 'pending_payment'));

        const startedAt = Date.now();
        const [e] = await cluster.start([shortTtl]);
        const settled = await waitUntil(
          'the overdue orders are settled after the restart',
          () => Promise.all(ids.map((id) => adminOrder(e, id))),
          (views) => views.every((view) => view.status !== 'pending_payment'),
          SETTLE_WITHIN_MS + 2_000,
          250,
        );
        for (const [i, view] of settled.entries()) {
          expect(view).toMatchObject({ status: 'cancelled', cancelReason: 'expired' });
          expect(Date.parse(view.cancelledAt!) - startedAt).toBeLessThanOrEqual(SETTLE_WITHIN_MS);
          expect(eventsOf(view, 'order_expired')).toHaveLength(1);
          expect(closeCallsFor(made[i].order.outTradeNo)).toHaveLength(made[i].prepaid ? 1 : 0);
        }
        expect(await stockOf(e, product.id)).toBe(20);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
