/**
 * Subscribe messages across two copies of the built service sharing MariaDB, Redis (the BullMQ job
 * queue) and the fake WeChat: every message is delivered by one WeChat send whichever instance
 * queued it and whichever works it, and when one instance is killed in the middle of its sends, the
 * other takes those messages up once their lease lapses and sends each once more, never while the
 * first call could still be in flight.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { Response } from 'supertest';
import { MARIADB_ROOT_URL, expectOk } from '../support/app-harness.js';
import type { ReceivedRequest } from '../support/fake-wechat-http-api.js';
import { Cluster, waitUntil, type ClusterLogin, type Instance } from '../support/instances.js';

const API = '/api/v1';
/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 120_000;
const WECHAT_TIMEOUT_MS = 5_000;
/** The claim a worker holds while it sends: WECHAT_TIMEOUT_MS + 10 s. */
const LEASE_MS = WECHAT_TIMEOUT_MS + 10_000;
const TEMPLATE = 'tmpl-cluster_01';

interface MessageView {
  id: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  wechatErrcode: number | null;
}

describe('subscribe messages across instances (MariaDB, Redis job queue, fake WeChat)', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let admin: ClusterLogin;
  let user: ClusterLogin;

  const consent = (instance: Instance, units: number): Promise<Response[]> =>
    Promise.all(
      Array.from({ length: units }, () =>
        instance
          .http()
          .post(`${API}/messages/subscriptions`)
          .set('Authorization', user.bearer)
          .send({ results: { [TEMPLATE]: 'accept' } }),
      ),
    );
  const send = (instance: Instance, label: string): Promise<Response> =>
    instance
      .http()
      .post(`${API}/admin/messages/subscribe`)
      .set('Authorization', admin.bearer)
      .send({
        userId: user.user.id,
        templateId: TEMPLATE,
        data: { thing1: { value: label } },
        idempotencyKey: randomUUID(),
      });
  const read = async (instance: Instance, id: string): Promise<MessageView> =>
    expectOk(await instance.http().get(`${API}/admin/messages/${id}`).set('Authorization', admin.bearer));
  /** The fake's subscribe sends of the message labelled `label`. */
  const sendsOf = (label: string): ReceivedRequest[] =>
    cluster.fake
      .requests('subscribe_send')
      .filter((r) => (r.body as { data?: { thing1?: { value?: string } } }).data?.thing1?.value === label);
  /** Sends WeChat answered (a call whose caller died before the answer is not one). */
  const answered = (requests: ReceivedRequest[]) =>
    requests.filter((r) => r.status === 200 && r.errcode === 0);

  /** Queues one message per label, spread over both instances; their ids by label. */
  async function queueAll(labels: string[]): Promise<Map<string, string>> {
    (await consent(a, labels.length)).forEach((res) => expectOk(res));
    const answers = await Promise.all(labels.map((label, i) => send(i % 2 ? b : a, label)));
    return new Map(labels.map((label, i) => [label, (expectOk(answers[i], 202) as MessageView).id]));
  }

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 9,
      env: { RATE_LIMIT_ENABLED: 'false', WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS) },
    });
    [a, b] = await cluster.start(2);
    admin = await cluster.login(a, 'o_e2e_admin_000000000000001');
    user = await cluster.login(b);
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, TEST_TIMEOUT_MS);

  it(
    'queues on either instance and sends each message once, the work shared through the job queue',
    async () => {
      const labels = Array.from({ length: 24 }, (_, i) => `shared-${i}`);
      const ids = await queueAll(labels);
      for (const [label, id] of ids) {
        await waitUntil(
          `message ${label} is sent`,
          () => read(b, id),
          (m) => m.status === 'sent',
          20_000,
        );
        expect(sendsOf(label)).toHaveLength(1);
      }
      expect(await read(a, ids.get('shared-0')!)).toMatchObject({
        status: 'sent',
        attempts: 1,
        wechatErrcode: 0,
      });
      // Both instances took part: each counted some of the sends.
      const counted = await Promise.all(
        [a, b].map((instance) =>
          instance.metric('wechat_messages_total', { kind: 'subscribe', result: 'sent' }),
        ),
      );
      expect(counted[0] + counted[1]).toBe(labels.length);
      expect(counted.every((n) => n > 0)).toBe(true);
      // The queue they shared lives in Redis, under the service's prefix.
      expect(await cluster.redisKeys('wxb:jobs:*')).not.toHaveLength(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'one instance killed mid-send: the other sends its messages once more after the lease, one answered send each',
    async () => {
      cluster.fake.reset();
      const labels = Array.from({ length: 16 }, (_, i) => `killed-${i}`);
      // Every first call hangs 3 s at WeChat (within WECHAT_TIMEOUT_MS), so both instances hold sends in flight.
      cluster.fake.delayNext('subscribe_send', 3_000, labels.length);
      const ids = await queueAll(labels);
      // More calls in flight than one instance runs at once (8): both instances are sending.
      await cluster.fake.waitForCalls('subscribe_send', 12);
      const killedAt = Date.now();
      await a.kill();

      for (const [label, id] of ids) {
        const message = await waitUntil(
          `message ${label} is sent`,
          () => read(b, id),
          (m) => m.status !== 'queued',
          LEASE_MS + 30_000,
        );
        expect([label, message.status]).toEqual([label, 'sent']);
        // WeChat answered exactly one send of it.
        expect([label, answered(sendsOf(label)).length]).toEqual([label, 1]);
      }
      // Some sends died with A: those messages took a second attempt, only after A's lease lapsed.
      const retried = labels.filter((label) => sendsOf(label).length === 2);
      expect(retried.length).toBeGreaterThan(0);
      for (const label of retried) {
        const [first, second] = sendsOf(label);
        expect(first.status).toBeUndefined(); // its caller was killed before WeChat answered
        expect(second.at - first.at).toBeGreaterThanOrEqual(LEASE_MS - 1_000);
        expect((await read(b, ids.get(label)!)).attempts).toBe(2);
      }
      for (const label of labels.filter((l) => !retried.includes(l))) expect(sendsOf(label)).toHaveLength(1);
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 30_000);

      // The database agrees: nothing queued, nothing leased.
      const conn = await mysql.createConnection(`${MARIADB_ROOT_URL}/${cluster.databaseName}`);
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM messages WHERE status = 'queued' OR lease_owner IS NOT NULL",
        );
        expect(Number(rows[0].n)).toBe(0);
      } finally {
        await conn.end();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
