import { randomUUID } from 'node:crypto';
import { messagesWorld, type MessagesWorld } from '../../test/support/in-memory-messages.js';
import { META } from '../../test/support/unit-world.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { wechatError } from '../wechat/wechat-errors.js';
import type { MessageEntity } from './message.entity.js';

const DATA = { thing1: { value: 'shipped' } };
const ADMIN = 'admin-0000';
const busy = () => wechatError('subscribe_send', -1);
const timeout = () => new AppError(ErrorCode.WECHAT_TIMEOUT);
const at = (start: Date, ms: number) => new Date(start.getTime() + ms);

describe('MessageDelivery (the worker and the sweep)', () => {
  let w: MessagesWorld;
  let userId: string;
  let openid: string;

  /** A queued message for a user with `units` units (one spent by the send). */
  async function queued(units = 1, templateId = 't'): Promise<MessageEntity> {
    for (let i = 0; i < units; i++) await w.quotas.record(userId, new Map([[templateId, 'accept' as const]]));
    const message = await w.subscribe.send(
      ADMIN,
      { userId, templateId, data: DATA, page: 'pages/p', idempotencyKey: randomUUID() },
      META,
    );
    await new Promise((resolve) => setImmediate(resolve));
    w.queue.clear();
    return message;
  }
  const row = (id: string) => w.messages.rows.get(id)!;

  beforeEach(async () => {
    w = messagesWorld();
    openid = `o_${randomUUID()}`;
    userId = (await w.users.findOrCreateByOpenid(openid, undefined, 'user')).user.id;
  });

  it('registers its worker for the deliver job on the queue', async () => {
    const message = await queued();
    await w.queue.handlers.get(w.deliverJob)!({ messageId: message.id });
    expect(row(message.id).status).toBe('sent');
  });

  it('sends once to the MP openid, then the message is sent with errcode 0, audited and counted', async () => {
    const message = await queued(2);
    const start = new Date();
    await w.deliver(message.id, start);
    expect(w.wechat.sent).toEqual([
      {
        touser: openid,
        templateId: 't',
        data: DATA,
        page: 'pages/p',
        miniprogramState: undefined,
        lang: undefined,
      },
    ]);
    expect(row(message.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      wechatErrcode: 0,
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(row(message.id).sentAt).toBeInstanceOf(Date);
    expect(w.quotaRows.remaining(userId, 't')).toBe(1);
    expect(w.repos.audit.rows.filter((e) => e.event === 'subscribe_message_sent')).toEqual([
      expect.objectContaining({ userId, actorId: ADMIN, detail: `message ${message.id}` }),
    ]);
    expect((await w.metrics.messages.get()).values).toEqual([
      expect.objectContaining({ labels: { kind: 'subscribe', result: 'sent' }, value: 1 }),
    ]);
    // A second wake-up for a sent message changes nothing.
    await w.deliver(message.id, at(start, 60_000));
    expect(w.wechat.calls).toBe(1);
  });

  it('retries busy, timeouts, 5xx and the open breaker 1, 2, 4, 8 s apart, then sends; the errcode is the last one', async () => {
    const message = await queued();
    w.wechat.outcomes.push(
      busy(),
      timeout(),
      new AppError(ErrorCode.WECHAT_ERROR, 'WeChat unreachable (http_5xx)'),
      new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE),
    );
    // Ahead of the real clock, so that each outcome is stored as of this `now`.
    let now = at(new Date(), 1_000);
    const errcodes: Array<number | null> = [];
    for (const wait of [1_000, 2_000, 4_000, 8_000]) {
      await w.deliver(message.id, now);
      errcodes.push(row(message.id).wechatErrcode);
      expect(row(message.id).status).toBe('queued');
      expect(row(message.id).nextAttemptAt!.getTime() - now.getTime()).toBeGreaterThanOrEqual(wait);
      // The job that wakes the next attempt, after the one that would cover a lapsed lease.
      expect(w.queue.delaysFor(message.id).at(-1)).toBe(wait);
      // Not a moment early: a wake-up before its time is put off to its time.
      w.queue.clear();
      await w.deliver(message.id, at(now, wait - 1));
      expect(row(message.id).attempts).toBe(errcodes.length);
      expect(w.queue.delaysFor(message.id)).toEqual([1]);
      now = at(now, wait);
    }
    expect(errcodes).toEqual([-1, null, null, null]);
    await w.deliver(message.id, now);
    expect(row(message.id)).toMatchObject({ status: 'sent', attempts: 5, wechatErrcode: 0 });
    expect(w.wechat.calls).toBe(5);
  });

  it('after the fifth failed attempt it fails, the unit given back, and is never tried again', async () => {
    const message = await queued();
    w.wechat.outcomes.push(
      busy(),
      busy(),
      wechatError('subscribe_send', 45011),
      busy(),
      wechatError('subscribe_send', 45011),
    );
    let now = new Date();
    for (let i = 0; i < 5; i++) {
      await w.deliver(message.id, now);
      now = at(now, 60_000);
    }
    expect(row(message.id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      wechatErrcode: 45011,
      sentAt: null,
    });
    expect(w.quotaRows.remaining(userId, 't')).toBe(1);
    await w.deliver(message.id, at(now, 60_000));
    expect(w.wechat.calls).toBe(5);
    expect((await w.metrics.messages.get()).values).toEqual([
      expect.objectContaining({ labels: { kind: 'subscribe', result: 'failed' }, value: 1 }),
    ]);
  });

  it('43101 fails it at once with the quota cleared, however many units were left', async () => {
    const message = await queued(4);
    w.wechat.outcomes.push(wechatError('subscribe_send', 43101));
    await w.deliver(message.id, new Date());
    expect(row(message.id)).toMatchObject({ status: 'failed', attempts: 1, wechatErrcode: 43101 });
    expect(w.quotaRows.remaining(userId, 't')).toBe(0);
    expect(w.queue.delaysFor(message.id)).toHaveLength(1); // only the lease's cover, no retry
  });

  it('another errcode fails it at once and gives the unit back', async () => {
    const message = await queued(1);
    w.wechat.outcomes.push(wechatError('subscribe_send', 40037));
    await w.deliver(message.id, new Date());
    expect(row(message.id)).toMatchObject({ status: 'failed', attempts: 1, wechatErrcode: 40037 });
    expect(w.quotaRows.remaining(userId, 't')).toBe(1);
  });

  it('claims before sending: of two workers woken at once, one sends', async () => {
    const message = await queued();
    const hold = w.wechat.holdSend();
    const now = new Date();
    const first = w.deliver(message.id, now);
    await hold.entered;
    // The second worker (another instance) finds it leased and leaves it.
    await w.deliver(message.id, now);
    expect(w.wechat.calls).toBe(1);
    hold.release();
    await first;
    expect(row(message.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('holds the lease for WECHAT_TIMEOUT_MS + 10 s, and enqueues the wake-up that covers its lapse', async () => {
    const message = await queued();
    const hold = w.wechat.holdSend();
    const now = new Date();
    const sending = w.deliver(message.id, now);
    await hold.entered;
    expect(row(message.id).leaseUntil!.getTime() - now.getTime()).toBe(w.timeoutMs + 10_000);
    expect(w.queue.delaysFor(message.id)).toEqual([w.timeoutMs + 10_000 + 100]);
    hold.release();
    await sending;
  });

  it('a worker that died mid-send: once the lease lapses another instance takes the message up', async () => {
    const message = await queued();
    const now = new Date();
    // Claimed by an instance that never came back.
    expect(await w.messages.claim(message.id, 'dead-instance', now, at(now, 11_500), 5)).toBe(true);
    await w.deliver(message.id, at(now, 5_000));
    expect(w.wechat.calls).toBe(0);
    await w.deliver(message.id, at(now, 11_501));
    expect(row(message.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('an outcome is stored only under its own claim', async () => {
    const message = await queued();
    const hold = w.wechat.holdSend();
    const now = new Date();
    const sending = w.deliver(message.id, now);
    await hold.entered;
    // Erased meanwhile: the erasure fails the message; the send's outcome does not land.
    await w.admin.erase(ADMIN, userId, META);
    hold.release();
    await sending;
    expect(row(message.id)).toMatchObject({ status: 'failed', wechatErrcode: null, payload: '{}' });
    expect(w.quotaRows.remaining(userId, 't')).toBeUndefined();
    expect(w.repos.audit.rows.filter((e) => e.event === 'subscribe_message_sent')).toEqual([]);
  });

  it('erasure: queued messages fail, quotas go, payloads are blanked, sent messages keep their status', async () => {
    const sent = await queued(3, 'a');
    await w.deliver(sent.id, new Date());
    const waiting = await queued(1, 'b');
    await w.admin.erase(ADMIN, userId, META);
    expect(row(sent.id)).toMatchObject({ status: 'sent', payload: '{}' });
    expect(row(waiting.id)).toMatchObject({ status: 'failed', payload: '{}', leaseOwner: null });
    expect(await w.quotas.list(userId)).toEqual({});
    await w.deliver(waiting.id, new Date());
    expect(w.wechat.calls).toBe(1);
  });

  it('a user gone at send time (no MP openid): failed without a call', async () => {
    const message = await queued();
    w.repos.users.rows.get(userId)!.openid = null;
    await w.bus.publish('users', [userId]);
    await w.deliver(message.id, new Date());
    expect(w.wechat.calls).toBe(0);
    expect(row(message.id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  describe('the sweep', () => {
    it('wakes queued messages nobody holds: due ones now, waiting ones when due; leased ones are left', async () => {
      const due = await queued(1, 'a');
      const waiting = await queued(1, 'b');
      const leased = await queued(1, 'c');
      const now = new Date();
      row(waiting.id).nextAttemptAt = at(now, 4_000);
      await w.messages.claim(leased.id, 'other', now, at(now, 11_500), 5);
      await w.delivery.sweepNow(now);
      expect(w.queue.delaysFor(due.id)).toEqual([0]);
      expect(w.queue.delaysFor(waiting.id)).toEqual([4_000]);
      expect(w.queue.delaysFor(leased.id)).toEqual([]);
    });

    it('fails a message whose fifth attempt never reported back, giving the unit back', async () => {
      const message = await queued();
      const now = new Date();
      Object.assign(row(message.id), { attempts: 5, leaseOwner: 'dead', leaseUntil: at(now, -1) });
      await w.delivery.sweepNow(now);
      expect(row(message.id)).toMatchObject({ status: 'failed', leaseOwner: null });
      expect(w.quotaRows.remaining(userId, 't')).toBe(1);
      expect(w.queue.jobs).toEqual([]);
    });

    it('stops at the first job the queue cannot take (Redis down): the rest wait for the next pass', async () => {
      await queued(1, 'a');
      await queued(1, 'b');
      await queued(1, 'c');
      w.queue.unreachable = true;
      await w.delivery.sweepNow(new Date());
      expect(w.queue.refused).toBe(1);
      w.queue.unreachable = false;
      await w.delivery.sweepNow(new Date());
      expect(w.queue.jobs).toHaveLength(3);
    });

    it('a send whose job could not be enqueued still answers, queued, for the sweep to find', async () => {
      await w.quotas.record(userId, new Map([['t', 'accept' as const]]));
      w.queue.unreachable = true;
      const message = await w.subscribe.send(
        ADMIN,
        { userId, templateId: 't', data: DATA, idempotencyKey: randomUUID() },
        META,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(w.queue.refused).toBe(1);
      expect(row(message.id).status).toBe('queued');
      w.queue.unreachable = false;
      await w.delivery.sweepNow(new Date());
      expect(w.queue.delaysFor(message.id)).toEqual([0]);
    });

    it('reports the queued count to the gauge when scraped', async () => {
      await queued(1, 'a');
      await queued(1, 'b');
      expect((await w.metrics.queued.get()).values[0].value).toBe(2);
    });
  });
});
