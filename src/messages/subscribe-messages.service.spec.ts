import { randomUUID } from 'node:crypto';
import { failure } from '../../test/support/app-errors.js';
import { messagesWorld, type MessagesWorld } from '../../test/support/in-memory-messages.js';
import { META } from '../../test/support/unit-world.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { SubscriptionResult } from './dto/subscription-results.dto.js';
import { requestHash, type SubscribeRequest } from './subscribe-messages.service.js';

const DATA = { thing1: { value: 'shipped' }, time2: { value: '2026-01-05' } };
const ADMIN = 'admin-0000';

describe('subscribe messages: quotas and sends', () => {
  let w: MessagesWorld;
  let seq = 0;

  const mpUser = async () =>
    (await w.users.findOrCreateByOpenid(`o_${++seq}_${randomUUID()}`, undefined, 'user')).user;
  const consent = (userId: string, results: Record<string, SubscriptionResult>) =>
    w.quotas.record(userId, new Map(Object.entries(results)));
  const request = (
    userId: string,
    templateId: string,
    extra: Partial<SubscribeRequest> = {},
  ): SubscribeRequest => ({
    userId,
    templateId,
    data: DATA,
    idempotencyKey: randomUUID(),
    ...extra,
  });

  beforeEach(() => {
    w = messagesWorld();
  });

  describe('quotas', () => {
    it('accept +1, ban 0, reject and filter nothing; answers the templates named, 0 when none', async () => {
      const user = await mpUser();
      expect(await consent(user.id, { a: 'accept', b: 'accept', c: 'reject', d: 'filter' })).toEqual({
        a: 1,
        b: 1,
        c: 0,
        d: 0,
      });
      expect(await consent(user.id, { a: 'accept', b: 'ban' })).toEqual({ a: 2, b: 0 });
      expect(await consent(user.id, { a: 'reject', b: 'accept' })).toEqual({ a: 2, b: 1 });
      expect(await consent(user.id, { a: 'ban' })).toEqual({ a: 0 });
      expect(await w.quotas.list(user.id)).toEqual({ b: 1 });
      expect(await w.quotas.list('someone-else')).toEqual({});
    });

    it('a consent that fails midway changes nothing', async () => {
      const user = await mpUser();
      await consent(user.id, { a: 'accept' });
      w.messagesUow.failNext = new Error('database gone');
      await expect(consent(user.id, { a: 'accept', b: 'accept' })).rejects.toThrow('database gone');
      expect(await w.quotas.list(user.id)).toEqual({ a: 1 });
    });
  });

  describe('the send', () => {
    it('queues the message with the unit spent in its transaction, audits it and wakes the worker', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      await consent(user.id, { t: 'accept' });
      const message = await w.subscribe.send(
        ADMIN,
        request(user.id, 't', { page: 'pages/a', miniprogramState: 'formal', lang: 'zh_CN' }),
        META,
      );
      expect(message).toMatchObject({
        status: 'queued',
        attempts: 0,
        wechatErrcode: null,
        userId: user.id,
        actorId: ADMIN,
      });
      expect(JSON.parse(message.payload)).toEqual({
        data: DATA,
        page: 'pages/a',
        miniprogramState: 'formal',
        lang: 'zh_CN',
      });
      expect(w.quotaRows.remaining(user.id, 't')).toBe(1);
      expect(w.repos.audit.rows.filter((e) => e.event === 'subscribe_message_queued')).toEqual([
        expect.objectContaining({
          userId: user.id,
          actorId: ADMIN,
          detail: `message ${message.id}`,
          ip: META.ip,
        }),
      ]);
      expect(JSON.stringify(w.repos.audit.rows)).not.toContain('shipped');
      await new Promise((resolve) => setImmediate(resolve));
      expect(w.queue.jobs).toEqual([{ name: w.deliverJob, payload: { messageId: message.id }, delayMs: 0 }]);
    });

    it('decides in order: known key (same body: as it is now, nothing spent; other body 40901), user, MP openid, quota', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      const first = request(user.id, 't');
      const made = await w.subscribe.send(ADMIN, first, META);
      // The same body again: the same message, no unit spent, no second queued entry.
      const again = await w.subscribe.send(
        ADMIN,
        { ...first, data: { time2: DATA.time2, thing1: DATA.thing1 } },
        META,
      );
      expect(again.id).toBe(made.id);
      expect(w.quotaRows.remaining(user.id, 't')).toBe(0);
      expect(w.messages.rows.size).toBe(1);
      // Another body with the key wins over every other refusal.
      for (const other of [
        { ...first, page: 'pages/x' },
        { ...first, lang: 'en_US' },
        { ...first, templateId: 'u' },
        { ...first, userId: 'nobody' },
        { ...first, data: { thing1: { value: 'other' } } },
      ]) {
        expect((await failure(w.subscribe.send(ADMIN, other, META))).code).toBe(
          ErrorCode.IDEMPOTENCY_KEY_REUSED,
        );
      }
      expect((await failure(w.subscribe.send(ADMIN, request('nobody', 't'), META))).code).toBe(
        ErrorCode.NOT_FOUND,
      );
      const webOnly = (await w.users.signInWithOaOpenid(`oa_${randomUUID()}`, undefined, {}, META)).user;
      await consent(webOnly.id, { t: 'accept' });
      expect((await failure(w.subscribe.send(ADMIN, request(webOnly.id, 't'), META))).code).toBe(
        ErrorCode.NO_IDENTITY_IN_APP,
      );
      expect((await failure(w.subscribe.send(ADMIN, request(user.id, 't'), META))).code).toBe(
        ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED,
      );
      // A refused send leaves nothing: no row, no unit spent, the key still free.
      expect(w.messages.rows.size).toBe(1);
      expect(w.quotaRows.remaining(webOnly.id, 't')).toBe(1);
    });

    it('the hash of a request ignores the order of data keys but nothing else', () => {
      const base = request('u', 't', { idempotencyKey: 'k' });
      const same = { ...base, data: { time2: DATA.time2, thing1: DATA.thing1 } };
      expect(requestHash(same)).toBe(requestHash(base));
      for (const other of [
        { ...base, page: '' },
        { ...base, miniprogramState: 'trial' as const },
        { ...base, data: { thing1: DATA.thing1 } },
        { ...base, templateId: 'T' },
      ]) {
        expect(requestHash(other)).not.toBe(requestHash(base));
      }
    });

    it('of concurrent sends for the last unit one wins; the others are 40920 and leave nothing', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => w.subscribe.send(ADMIN, request(user.id, 't'), META)),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const lost of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
        expect(lost.reason.code).toBe(ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED);
      }
      expect(w.messages.rows.size).toBe(1);
      expect(w.quotaRows.remaining(user.id, 't')).toBe(0);
    });

    it('of concurrent requests with one new key, one makes the message and every one answers it', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      const one = request(user.id, 't');
      const answers = await Promise.all(Array.from({ length: 6 }, () => w.subscribe.send(ADMIN, one, META)));
      expect(new Set(answers.map((m) => m.id)).size).toBe(1);
      expect(w.messages.rows.size).toBe(1);
      expect(w.quotaRows.remaining(user.id, 't')).toBe(0);
    });

    it('a transaction that fails gives the unit back and leaves the key unused', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      const one = request(user.id, 't');
      w.messagesUow.failNext = new Error('database gone');
      await expect(w.subscribe.send(ADMIN, one, META)).rejects.toThrow('database gone');
      expect(w.messages.rows.size).toBe(0);
      expect(w.quotaRows.remaining(user.id, 't')).toBe(1);
      expect((await w.subscribe.send(ADMIN, one, META)).status).toBe('queued');
    });

    it('get: the message, or 404', async () => {
      const user = await mpUser();
      await consent(user.id, { t: 'accept' });
      const made = await w.subscribe.send(ADMIN, request(user.id, 't'), META);
      expect((await w.subscribe.get(made.id)).id).toBe(made.id);
      expect((await failure(w.subscribe.get(randomUUID()))).code).toBe(ErrorCode.NOT_FOUND);
    });
  });
});
