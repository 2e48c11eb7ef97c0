/**
 * Subscribe messages end to end, on each database, against the fake WeChat: consent quotas, the
 * send's order of decisions, idempotency and its races, the worker's attempts (sent, retried with
 * backoff, 43101, other errcodes), a restart with a message still queued (a second app on the same
 * database takes it up), erasure, and the official account's routes while it is off.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Response } from 'supertest';
import request from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { DELIVERY_POLICY, type DeliveryPolicy } from '../../src/messages/delivery-policy.js';
import { FollowersService } from '../../src/official-account/followers/followers.service.js';
import { UsersService } from '../../src/users/users.service.js';
import {
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import {
  OFFICIAL_APP_ID,
  OFFICIAL_APP_SECRET,
  type ReceivedRequest,
} from '../support/fake-wechat-http-api.js';
import { APP_ID } from '../support/app-harness.js';

const API = '/api/v1';
const SUBSCRIPTIONS = `${API}/messages/subscriptions`;
const SUBSCRIBE = `${API}/admin/messages/subscribe`;
const MESSAGE_KEYS = [
  'attempts',
  'createdAt',
  'id',
  'idempotencyKey',
  'kind',
  'sentAt',
  'status',
  'templateId',
  'updatedAt',
  'userId',
  'wechatErrcode',
];

interface MessageView {
  id: string;
  kind: string;
  userId: string;
  templateId: string;
  idempotencyKey: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  wechatErrcode: number | null;
  createdAt: string;
  sentAt: string | null;
  updatedAt: string;
}

const DATA = { thing1: { value: '您的订单已发货' }, time2: { value: '2026-01-05 10:00' } };

/** Polls `probe` until `holds` (a row's state is announced by no event outside the app). */
async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  holds: (value: T) => boolean,
  ms = 15_000,
) {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (holds(last)) return last;
    await sleep(25);
  }
  throw new Error(`timed out waiting until ${what}; last: ${JSON.stringify(last)}`);
}

describe('subscribe messages', () => {
  let h: Harness;
  let admin: LoginResult;
  let templateSeq = 0;
  const newTemplate = () => `tmpl-${process.pid}_${++templateSeq}`;

  const consent = (who: LoginResult, results: Record<string, unknown>): Promise<Response> =>
    h.http().post(SUBSCRIPTIONS).set('Authorization', who.bearer).send({ results });
  const quotas = async (who: LoginResult): Promise<Record<string, number>> =>
    expectOk(await h.http().get(SUBSCRIPTIONS).set('Authorization', who.bearer)).quotas;
  const send = (body: Record<string, unknown>, by: LoginResult = admin): Promise<Response> =>
    h.http().post(SUBSCRIBE).set('Authorization', by.bearer).send(body);
  const read = async (id: string): Promise<MessageView> =>
    expectOk(await h.http().get(`${API}/admin/messages/${id}`).set('Authorization', admin.bearer));
  const settled = (id: string, ms?: number): Promise<MessageView> =>
    eventually(
      `message ${id} is no longer queued`,
      () => read(id),
      (m) => m.status !== 'queued',
      ms,
    );
  const body = (who: LoginResult, templateId: string, extra: Record<string, unknown> = {}) => ({
    userId: who.user.id,
    templateId,
    data: DATA,
    idempotencyKey: randomUUID(),
    ...extra,
  });
  /** A user who granted `units` one-time subscriptions for a new template. */
  const subscribed = async (units = 1): Promise<{ user: LoginResult; templateId: string }> => {
    const user = await h.login();
    const templateId = newTemplate();
    for (let i = 0; i < units; i++) expectOk(await consent(user, { [templateId]: 'accept' }));
    return { user, templateId };
  };
  const sendsFor = (templateId: string): ReceivedRequest[] =>
    h.fake
      .requests('subscribe_send')
      .filter((r) => (r.body as { template_id?: string }).template_id === templateId);

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('consent quotas', () => {
    it('accept adds one, ban sets 0, reject and filter change nothing, errMsg is ignored', async () => {
      const user = await h.login();
      const [a, b, c, d] = [newTemplate(), newTemplate(), newTemplate(), newTemplate()];
      expect(
        expectOk(
          await consent(user, {
            errMsg: 'requestSubscribeMessage:ok',
            [a]: 'accept',
            [b]: 'accept',
            [c]: 'reject',
          }),
        ),
      ).toEqual({ quotas: { [a]: 1, [b]: 1, [c]: 0 } });
      expect(expectOk(await consent(user, { [a]: 'accept', [b]: 'ban', [d]: 'filter' }))).toEqual({
        quotas: { [a]: 2, [b]: 0, [d]: 0 },
      });
      expect(expectOk(await consent(user, { [a]: 'reject', [c]: 'filter' }))).toEqual({
        quotas: { [a]: 2, [c]: 0 },
      });
      // Only templates with at least one unit, and only the caller's.
      expect(await quotas(user)).toEqual({ [a]: 2 });
      expect(await quotas(await h.login())).toEqual({});
    });

    it('counts concurrent consents for one template, each once', async () => {
      const user = await h.login();
      const t = newTemplate();
      const answers = await Promise.all(Array.from({ length: 8 }, () => consent(user, { [t]: 'accept' })));
      answers.forEach((res) => expectOk(res));
      expect(await quotas(user)).toEqual({ [t]: 8 });
    });

    it('refuses results that are not 1-10 template ids with a known answer', async () => {
      const user = await h.login();
      const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, 'accept']));
      expectOk(await consent(user, { ...ten, errMsg: 'requestSubscribeMessage:ok' }));
      for (const results of [
        {},
        { errMsg: 'requestSubscribeMessage:ok' },
        { ...ten, t10: 'accept' },
        { t: 'maybe' },
        { t: 1 },
        { 'bad id!': 'accept' },
        { ['x'.repeat(65)]: 'accept' },
        ['accept'],
        'accept',
        null,
      ]) {
        expectValidationError(await consent(user, results as Record<string, unknown>), 'results');
      }
      expectValidationError(
        await h
          .http()
          .post(SUBSCRIPTIONS)
          .set('Authorization', user.bearer)
          .send({ results: { t: 'accept' }, x: 1 }),
        'x',
      );
      expectError(await h.http().get(SUBSCRIPTIONS), 40100);
      expectError(
        await h
          .http()
          .post(SUBSCRIPTIONS)
          .send({ results: { t: 'accept' } }),
        40100,
      );
    });
  });

  describe('sending', () => {
    it('answers 202 with the queued message, then the worker sends it once and it reads as sent', async () => {
      const { user, templateId } = await subscribed(2);
      const res = await send(
        body(user, templateId, { page: 'pages/order/detail?id=7', miniprogramState: 'trial', lang: 'en_US' }),
      );
      const queued = expectOk(res, 202) as MessageView;
      expect(Object.keys(queued).sort()).toEqual(MESSAGE_KEYS);
      expect(queued).toMatchObject({
        kind: 'subscribe',
        userId: user.user.id,
        templateId,
        status: 'queued',
        attempts: 0,
        wechatErrcode: null,
        sentAt: null,
      });
      const sent = await settled(queued.id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 1, wechatErrcode: 0 });
      expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(Date.parse(queued.createdAt));
      const calls = sendsFor(templateId);
      expect(calls).toHaveLength(1);
      expect(calls[0].body).toEqual({
        touser: user.openid,
        template_id: templateId,
        page: 'pages/order/detail?id=7',
        miniprogram_state: 'trial',
        lang: 'en_US',
        data: DATA,
      });
      expect(await quotas(user)).toEqual({ [templateId]: 1 });
      // No openid and no template data in any answer.
      const text = JSON.stringify(res.body) + JSON.stringify(await read(queued.id));
      expect(text).not.toContain(user.openid);
      expect(text).not.toContain(DATA.thing1.value);
    });

    it('decides in order: a known key first, then the user, the MP openid, the quota', async () => {
      const { user, templateId } = await subscribed(1);
      const first = body(user, templateId);
      const made = expectOk(await send(first), 202) as MessageView;
      await settled(made.id);
      // The same key and body: the message as it is now, nothing spent, no new call.
      const calls = sendsFor(templateId).length;
      const again = expectOk(await send(first), 202) as MessageView;
      expect(again).toEqual(await read(made.id));
      expect(again.status).toBe('sent');
      expect(sendsFor(templateId)).toHaveLength(calls);
      // The data's keys in another order are the same body.
      const reordered = { ...first, data: { time2: DATA.time2, thing1: DATA.thing1 } };
      expect((expectOk(await send(reordered), 202) as MessageView).id).toBe(made.id);
      // Another body with that key: 40901, even naming a user who does not exist.
      expectError(await send({ ...first, data: { thing1: { value: 'other' } } }), 40901);
      expectError(await send({ ...first, page: 'pages/index' }), 40901);
      expectError(await send({ ...first, userId: randomUUID() }), 40901);
      // A new key: unknown user 404, then no MP openid 40921, then no quota 40920.
      expectError(await send(body(user, templateId, { userId: randomUUID() })), 40400);
      expectError(await send(body(user, templateId, { userId: 'not-a-uuid' })), 40400);
      const webOnly = await h.app
        .get(UsersService)
        .signInWithOaOpenid(
          `oa_${randomUUID()}`,
          undefined,
          {},
          { ip: '127.0.0.1', requestId: 'e2e', userAgent: null },
        );
      expectError(await send({ ...body(user, templateId), userId: webOnly.user.id }), 40921);
      expectError(await send(body(user, templateId)), 40920);
      expectError(await send(body(user, newTemplate())), 40920);
      expect(await quotas(user)).toEqual({});
    });

    it('of concurrent sends for the last unit, one is 202 and the rest 40920', async () => {
      const { user, templateId } = await subscribed(1);
      const answers = await Promise.all(Array.from({ length: 8 }, () => send(body(user, templateId))));
      const accepted = answers.filter((res) => res.status === 202);
      expect(accepted).toHaveLength(1);
      answers.filter((res) => res.status !== 202).forEach((res) => expectError(res, 40920));
      await settled(expectOk(accepted[0], 202).id);
      expect(sendsFor(templateId)).toHaveLength(1);
    });

    it('of concurrent requests with one new key, one makes the message and all get it', async () => {
      const { user, templateId } = await subscribed(3);
      const one = body(user, templateId);
      const answers = await Promise.all(Array.from({ length: 8 }, () => send(one)));
      const ids = new Set(answers.map((res) => (expectOk(res, 202) as MessageView).id));
      expect(ids.size).toBe(1);
      await settled([...ids][0]);
      expect(await quotas(user)).toEqual({ [templateId]: 2 });
      expect(sendsFor(templateId)).toHaveLength(1);
    });

    it('validates the body as the contract shapes it', async () => {
      const user = await h.login();
      const ok = body(user, 'tmpl');
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...ok, templateId: '' }, 'templateId'],
        [{ ...ok, templateId: 'a'.repeat(65) }, 'templateId'],
        [{ ...ok, templateId: 'bad id' }, 'templateId'],
        [{ ...ok, data: {} }, 'data'],
        [
          {
            ...ok,
            data: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, { value: 'v' }])),
          },
          'data',
        ],
        [{ ...ok, data: { '1abc': { value: 'v' } } }, 'data'],
        [{ ...ok, data: { ['k'.repeat(33)]: { value: 'v' } } }, 'data'],
        [{ ...ok, data: { k: { value: '' } } }, 'data'],
        [{ ...ok, data: { k: { value: 'x'.repeat(201) } } }, 'data'],
        [{ ...ok, data: { k: { value: 'v', color: '#000' } } }, 'data'],
        [{ ...ok, data: { k: 'v' } }, 'data'],
        [{ ...ok, data: [] }, 'data'],
        [{ ...ok, page: '' }, 'page'],
        [{ ...ok, page: 'p'.repeat(513) }, 'page'],
        [{ ...ok, miniprogramState: 'production' }, 'miniprogramState'],
        [{ ...ok, lang: 'fr_FR' }, 'lang'],
        [{ ...ok, idempotencyKey: '' }, 'idempotencyKey'],
        [{ ...ok, idempotencyKey: 'k'.repeat(129) }, 'idempotencyKey'],
        [{ ...ok, idempotencyKey: 'with space' }, 'idempotencyKey'],
        [{ ...ok, userId: 5 }, 'userId'],
        [{ ...ok, extra: true }, 'extra'],
      ];
      for (const [invalid, field] of cases) expectValidationError(await send(invalid), field);
      // At the limits: 20 entries, values of 200 characters (emoji count once), 128-character key.
      const twenty = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`k_${i}`, { value: '😀'.repeat(200) }]),
      );
      expectError(
        await send({ ...ok, data: twenty, idempotencyKey: 'k'.repeat(128), page: 'p'.repeat(512) }),
        40920,
      );
      // Admins only.
      expectError(await send(ok, user), 40300);
      expectError(await h.http().post(SUBSCRIBE).send(ok), 40100);
      expectError(
        await h.http().get(`${API}/admin/messages/${randomUUID()}`).set('Authorization', admin.bearer),
        40400,
      );
      expectError(
        await h.http().get(`${API}/admin/messages/not-an-id`).set('Authorization', admin.bearer),
        40400,
      );
      expectError(
        await h.http().get(`${API}/admin/messages/${randomUUID()}`).set('Authorization', user.bearer),
        40300,
      );
    });
  });

  describe('attempts', () => {
    it('43101 fails the message at once, clears the quota and is not tried again', async () => {
      const { user, templateId } = await subscribed(3);
      h.fake.failNext('subscribe_send', 43101);
      const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
      expect(await settled(made.id)).toMatchObject({
        status: 'failed',
        attempts: 1,
        wechatErrcode: 43101,
        sentAt: null,
      });
      expect(sendsFor(templateId)).toHaveLength(1);
      expect(await quotas(user)).toEqual({});
    });

    it('another errcode fails it at once and gives the unit back', async () => {
      const { user, templateId } = await subscribed(1);
      h.fake.failNext('subscribe_send', 47003);
      const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
      expect(await settled(made.id)).toMatchObject({ status: 'failed', attempts: 1, wechatErrcode: 47003 });
      expect(sendsFor(templateId)).toHaveLength(1);
      expect(await quotas(user)).toEqual({ [templateId]: 1 });
    });

    it('busy and HTTP 5xx are tried again, 1 s then 2 s apart, until WeChat takes it', async () => {
      const { user, templateId } = await subscribed(1);
      h.fake.failNext('subscribe_send', -1);
      h.fake.http500Next('subscribe_send');
      const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
      const sent = await settled(made.id, 20_000);
      expect(sent).toMatchObject({ status: 'sent', attempts: 3, wechatErrcode: 0 });
      const at = sendsFor(templateId).map((r) => r.at);
      expect(at).toHaveLength(3);
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(1_000);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(2_000);
      expect(await quotas(user)).toEqual({});
    }, 30_000);

    it('after five failed attempts it fails with the unit given back (backoff shortened here)', async () => {
      const policy = h.app.get<DeliveryPolicy>(DELIVERY_POLICY);
      const base = policy.backoffBaseMs;
      policy.backoffBaseMs = 20;
      try {
        const { user, templateId } = await subscribed(1);
        h.fake.failNext('subscribe_send', 45011, 2);
        h.fake.failNext('subscribe_send', -1, 3);
        const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
        expect(await settled(made.id)).toMatchObject({ status: 'failed', attempts: 5, wechatErrcode: -1 });
        expect(sendsFor(templateId)).toHaveLength(5);
        expect(await quotas(user)).toEqual({ [templateId]: 1 });
      } finally {
        policy.backoffBaseMs = base;
      }
    });

    it('a timeout leaves no errcode, and the next attempt sends it', async () => {
      const { user, templateId } = await subscribed(1);
      h.fake.failNext('subscribe_send', -1);
      h.fake.delayNext('subscribe_send', 3_000); // past WECHAT_TIMEOUT_MS (1.5 s)
      const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
      await eventually(
        'the first attempt failed busy',
        () => read(made.id),
        (m) => m.wechatErrcode === -1,
      );
      await eventually(
        'the second attempt timed out',
        () => read(made.id),
        (m) => m.attempts === 2 && m.status === 'queued' && m.wechatErrcode === null,
        10_000,
      );
      expect(await settled(made.id, 10_000)).toMatchObject({ status: 'sent', attempts: 3, wechatErrcode: 0 });
    }, 30_000);
  });

  describe('erasure', () => {
    it('fails the user’s queued messages and erases their quotas', async () => {
      const policy = h.app.get<DeliveryPolicy>(DELIVERY_POLICY);
      const base = policy.backoffBaseMs;
      policy.backoffBaseMs = 60_000; // the retry waits long enough to erase the user first
      try {
        const { user, templateId } = await subscribed(3);
        h.fake.failNext('subscribe_send', -1);
        const made = expectOk(await send(body(user, templateId)), 202) as MessageView;
        await eventually(
          'the first attempt failed',
          () => read(made.id),
          (m) => m.attempts === 1,
        );
        expectOk(await h.http().delete(`${API}/users/${user.user.id}`).set('Authorization', admin.bearer));
        expect(await read(made.id)).toMatchObject({ status: 'failed', attempts: 1 });
        const dump = JSON.parse(await h.dumpDatabase()) as {
          subscription_quotas: Array<{ user_id: string }>;
          messages: Array<{ id: string; payload: string }>;
        };
        expect(dump.subscription_quotas.filter((q) => q.user_id === user.user.id)).toEqual([]);
        expect(dump.messages.find((m) => m.id === made.id)?.payload).toBe('{}');
      } finally {
        policy.backoffBaseMs = base;
      }
    });
  });

  describe('a restart', () => {
    it('takes up a message left queued: a second app on the same database sends it', async () => {
      const other = await startHarness();
      let second: NestFastifyApplication | undefined;
      try {
        const boss = await other.loginAdmin();
        const user = await other.login();
        const templateId = newTemplate();
        expectOk(
          await request(other.app.getHttpServer())
            .post(SUBSCRIPTIONS)
            .set('Authorization', user.bearer)
            .send({ results: { [templateId]: 'accept' } }),
        );
        other.fake.failNext('subscribe_send', -1);
        const made = expectOk(
          await request(other.app.getHttpServer())
            .post(SUBSCRIBE)
            .set('Authorization', boss.bearer)
            .send({ userId: user.user.id, templateId, data: DATA, idempotencyKey: randomUUID() }),
          202,
        ) as MessageView;
        await other.fake.waitForCalls('subscribe_send', 1);
        const readVia = async (app: NestFastifyApplication): Promise<MessageView> =>
          expectOk(
            await request(app.getHttpServer())
              .get(`${API}/admin/messages/${made.id}`)
              .set('Authorization', boss.bearer),
          );
        await eventually(
          'the first attempt is stored',
          () => readVia(other.app),
          (m) => m.attempts === 1,
        );
        // The first app stops with the message queued (its next attempt was on a timer in it).
        await other.app.close();
        second = await createApp(other.env, { logger: false });
        const sent = await eventually(
          'the second app sent it',
          () => readVia(second!),
          (m) => m.status === 'sent',
        );
        expect(sent).toMatchObject({ attempts: 2, wechatErrcode: 0 });
        expect(other.fake.requests('subscribe_send')).toHaveLength(2);
      } finally {
        await second?.close();
        await other.close();
      }
    }, 40_000);
  });

  describe('the official account', () => {
    it('its message routes are not found while it is off', async () => {
      const user = await h.login();
      expectError(
        await h
          .http()
          .post(`${API}/admin/official/template-messages`)
          .set('Authorization', admin.bearer)
          .send({ userId: user.user.id, templateId: 't', data: DATA }),
        40400,
      );
      expectError(
        await h
          .http()
          .post(`${API}/admin/official/cs-messages`)
          .set('Authorization', admin.bearer)
          .send({ userId: user.user.id, text: 'hello' }),
        40400,
      );
    });
  });

  it('counts messages and never writes template data in the audit log', async () => {
    const metrics = (await h.http().get('/metrics')).text;
    expect(metrics).toMatch(/wechat_messages_total\{kind="subscribe",result="sent"\} [1-9]/);
    expect(metrics).toMatch(/wechat_messages_total\{kind="subscribe",result="failed"\} [1-9]/);
    expect(metrics).toMatch(/^wechat_messages_queued \d+$/m);
    const dump = JSON.parse(await h.dumpDatabase()) as {
      audit_events: Array<{ event: string; detail: string | null }>;
    };
    const entries = dump.audit_events.filter((e) => e.event.includes('message'));
    expect(entries.map((e) => e.event)).toEqual(
      expect.arrayContaining(['subscribe_message_queued', 'subscribe_message_sent']),
    );
    expect(JSON.stringify(entries)).not.toContain(DATA.thing1.value);
  });
});

describe('template and customer-service messages of the official account', () => {
  const TEMPLATES = `${API}/admin/official/template-messages`;
  const CS = `${API}/admin/official/cs-messages`;
  const DAY_MS = 24 * 3600 * 1000;
  let h: Harness;
  let admin: LoginResult;

  /** A user who signed in on the web (an OA openid, no mini-program openid); followed when asked. */
  const webUser = async (follows = true, lastInteraction = Date.now()) => {
    const oaOpenid = `oa_${randomUUID().replace(/-/g, '')}`;
    const { user } = await h.app
      .get(UsersService)
      .signInWithOaOpenid(oaOpenid, undefined, {}, { ip: '127.0.0.1', requestId: 'e2e', userAgent: null });
    if (follows) h.fake.follow(oaOpenid, { at: lastInteraction });
    return { id: user.id, oaOpenid };
  };
  const template = (body: Record<string, unknown>, by: LoginResult = admin) =>
    h.http().post(TEMPLATES).set('Authorization', by.bearer).send(body);
  const cs = (body: Record<string, unknown>, by: LoginResult = admin) =>
    h.http().post(CS).set('Authorization', by.bearer).send(body);

  beforeAll(async () => {
    h = await startHarness({
      env: {
        WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
        WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
        WECHAT_OA_TOKEN: 'msgtest',
        PUBLIC_BASE_URL: 'https://api.example.com',
      },
    });
    admin = await h.loginAdmin();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sends a template message to the OA openid and answers WeChat’s msgid as a string', async () => {
    const user = await webUser();
    const data = expectOk(
      await template({
        userId: user.id,
        templateId: 'TM00015',
        data: { keyword1: { value: '巧克力' } },
        url: 'https://h5.example.com/orders/1',
        miniprogram: { pagepath: 'pages/orders/detail?id=1' },
      }),
    );
    expect(Object.keys(data)).toEqual(['wechatMsgId']);
    expect(typeof data.wechatMsgId).toBe('string');
    const [sent] = h.fake.templateMessages().filter((m) => m.touser === user.oaOpenid);
    expect(sent).toMatchObject({
      templateId: 'TM00015',
      msgid: data.wechatMsgId,
      data: { keyword1: { value: '巧克力' } },
      url: 'https://h5.example.com/orders/1',
      miniprogram: { appid: APP_ID, pagepath: 'pages/orders/detail?id=1' },
    });
    expect(sent.clientMsgId).toMatch(/^[0-9a-f]{32}$/);
    // Another request is another message, with its own client_msg_id.
    expectOk(await template({ userId: user.id, templateId: 'TM00015', data: { keyword1: { value: 'x' } } }));
    const both = h.fake.templateMessages().filter((m) => m.touser === user.oaOpenid);
    expect(both).toHaveLength(2);
    expect(both[1].clientMsgId).not.toBe(both[0].clientMsgId);
  });

  it('keeps one client_msg_id across the calls WeChat made it repeat', async () => {
    const user = await webUser();
    // The first call meets a stale token and is made again; then WeChat is busy once more.
    h.fake.revokeOfficialToken(42001);
    h.fake.busyOnce('template_send');
    expectOk(await template({ userId: user.id, templateId: 'TM00015', data: { keyword1: { value: 'y' } } }));
    const calls = h.fake
      .requests('template_send')
      .filter((r) => (r.body as { touser?: string }).touser === user.oaOpenid);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(h.fake.templateMessages().filter((m) => m.touser === user.oaOpenid)).toHaveLength(1);
    expect(new Set(calls.map((r) => (r.body as { client_msg_id?: string }).client_msg_id)).size).toBe(1);
  });

  it('refuses without an OA openid (40921) and for a user who does not exist (404); 43004 is 40922', async () => {
    const mpUser = await h.login();
    const body = { templateId: 'TM00015', data: { keyword1: { value: 'z' } } };
    expectError(await template({ ...body, userId: mpUser.user.id }), 40921);
    expectError(await cs({ userId: mpUser.user.id, text: 'hi' }), 40921);
    expectError(await template({ ...body, userId: randomUUID() }), 40400);
    const stranger = await webUser(false);
    expectError(await template({ ...body, userId: stranger.id }), 40922);
    expectError(await cs({ userId: stranger.id, text: 'hi' }), 40922);
  });

  it('refuses a person on record as unsubscribed with 40922 before any call', async () => {
    const user = await webUser(); // WeChat would still take it: the refusal is the service's own
    await h.app.get(FollowersService).unsubscribed(user.oaOpenid, new Date());
    const calls = h.fake.calls('template_send') + h.fake.calls('custom_send');
    expectError(
      await template({ userId: user.id, templateId: 'TM00015', data: { keyword1: { value: 'v' } } }),
      40922,
    );
    expectError(await cs({ userId: user.id, text: 'hi' }), 40922);
    expect(h.fake.calls('template_send') + h.fake.calls('custom_send')).toBe(calls);
    // Following again (the callback's subscribe) lifts it.
    await h.app.get(FollowersService).subscribed(user.oaOpenid, new Date());
    expectOk(await cs({ userId: user.id, text: 'welcome back' }));
  });

  it('sends a customer-service text within the 48-hour window; outside it 40923', async () => {
    const recent = await webUser(true, Date.now() - DAY_MS);
    expect(expectOk(await cs({ userId: recent.id, text: '您好，订单已发货 🚚' }))).toBeNull();
    expect(h.fake.customMessages().filter((m) => m.touser === recent.oaOpenid)).toEqual([
      expect.objectContaining({ msgtype: 'text', content: '您好，订单已发货 🚚' }),
    ]);
    const quiet = await webUser(true, Date.now() - 3 * DAY_MS);
    expectError(await cs({ userId: quiet.id, text: 'hi' }), 40923);
  });

  it('validates both bodies, admins only', async () => {
    const user = await webUser();
    const ok = { userId: user.id, templateId: 'TM00015', data: { keyword1: { value: 'v' } } };
    for (const [body, field] of [
      [{ ...ok, url: 'ftp://h5.example.com/' }, 'url'],
      [{ ...ok, url: 'https://h5.example.com/' + 'a'.repeat(1024) }, 'url'],
      [{ ...ok, url: '/relative' }, 'url'],
      [{ ...ok, miniprogram: { pagepath: '' } }, 'miniprogram.pagepath'],
      [{ ...ok, miniprogram: { pagepath: 'p', appid: 'wxABCDEF0123456789' } }, 'miniprogram.appid'],
      [{ ...ok, miniprogram: { pagepath: 'p', extra: 1 } }, 'miniprogram.extra'],
      [{ ...ok, data: {} }, 'data'],
      [{ ...ok, templateId: 'bad id' }, 'templateId'],
      [{ ...ok, clientMsgId: 'mine' }, 'clientMsgId'],
    ] as Array<[Record<string, unknown>, string]>) {
      expectValidationError(await template(body), field);
    }
    expectValidationError(await cs({ userId: user.id, text: '' }), 'text');
    expectValidationError(await cs({ userId: user.id, text: '字'.repeat(601) }), 'text');
    expectOk(await cs({ userId: user.id, text: '字'.repeat(600) }));
    const someone = await h.login();
    expectError(await template(ok, someone), 40300);
    expectError(await cs({ userId: user.id, text: 'hi' }, someone), 40300);
  });

  it('audits the sends without their text or data, and counts them', async () => {
    const dump = JSON.parse(await h.dumpDatabase()) as {
      audit_events: Array<{ event: string; detail: string | null }>;
    };
    const entries = dump.audit_events.filter(
      (e) => e.event === 'template_message_sent' || e.event === 'cs_message_sent',
    );
    expect(entries.map((e) => e.event)).toEqual(
      expect.arrayContaining(['template_message_sent', 'cs_message_sent']),
    );
    expect(JSON.stringify(entries)).not.toMatch(/巧克力|订单|字字/);
    const metrics = (await h.http().get('/metrics')).text;
    expect(metrics).toMatch(/wechat_messages_total\{kind="template",result="sent"\} [1-9]/);
    expect(metrics).toMatch(/wechat_messages_total\{kind="custom",result="failed"\} [1-9]/);
  });
});
