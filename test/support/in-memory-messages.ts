/**
 * In-memory stand-ins for the messages' repositories and the job queue, and the messages module
 * wired by hand over them (`messagesWorld()`), for unit tests of the rules. The repositories keep
 * the guarantees the rules rely on, each checked and applied in one synchronous step: the unique
 * idempotency key, the conditional spend of a unit, the conditional claim of a message and the
 * outcome written only under its claim. Writes take effect at once and are undone if their
 * transaction fails (RollbackAwareUnitOfWork), as a database's would be.
 */
import { MetricsService } from '../../src/metrics/metrics.service.js';
import type { Transaction } from '../../src/database/unit-of-work.js';
import {
  JobQueue,
  type EnqueueOptions,
  type JobHandler,
  type JobPayload,
} from '../../src/jobs/job-queue.port.js';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../../src/messages/delivery-policy.js';
import { FollowerRecords } from '../../src/messages/follower-records.js';
import { DELIVER_JOB, MessageDelivery } from '../../src/messages/message-delivery.js';
import { MessageErasure } from '../../src/messages/message-erasure.js';
import { MessageMetrics } from '../../src/messages/message-metrics.js';
import type { MessageEntity } from '../../src/messages/message.entity.js';
import {
  MessageRepository,
  type InsertOutcome,
  type MessageOutcome,
} from '../../src/messages/message.repository.js';
import { OfficialMessages } from '../../src/messages/official-messages.service.js';
import { SubscribeMessages } from '../../src/messages/subscribe-messages.service.js';
import { SubscriptionQuotaRepository } from '../../src/messages/subscription-quota.repository.js';
import { SubscriptionQuotas } from '../../src/messages/subscription-quotas.service.js';
import type {
  OfficialAccountClient,
  TemplateMessage,
} from '../../src/wechat/official-account-client.port.js';
import type { SubscribeMessage, WechatClient } from '../../src/wechat/wechat-client.port.js';
import { onRollback, RollbackAwareUnitOfWork } from './in-memory-products.js';
import { unitWorld } from './unit-world.js';

const copy = <T extends object>(row: T): T => ({ ...row });

/** Runs `write` now and undoes it with `undo` if `tx` rolls back. */
function now(tx: Transaction | undefined, write: () => void, undo: () => void): void {
  write();
  if (tx) onRollback(tx, undo);
}

const lapsed = (row: MessageEntity, at: Date) => row.leaseUntil === null || row.leaseUntil < at;

export class InMemoryMessageRepository extends MessageRepository {
  readonly rows = new Map<string, MessageEntity>();

  async insert(message: MessageEntity, tx: Transaction): Promise<InsertOutcome> {
    for (const row of this.rows.values())
      if (row.idempotencyKey === message.idempotencyKey) return 'duplicate';
    now(
      tx,
      () => this.rows.set(message.id, copy(message)),
      () => this.rows.delete(message.id),
    );
    return 'inserted';
  }

  async findById(id: string): Promise<MessageEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async findByIdempotencyKey(key: string): Promise<MessageEntity | null> {
    for (const row of this.rows.values()) if (row.idempotencyKey === key) return copy(row);
    return null;
  }

  async claim(id: string, owner: string, at: Date, until: Date, maxAttempts: number): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'queued' || !lapsed(row, at) || row.attempts >= maxAttempts) return false;
    if (row.nextAttemptAt && row.nextAttemptAt > at) return false;
    Object.assign(row, { leaseOwner: owner, leaseUntil: until, attempts: row.attempts + 1, updatedAt: at });
    return true;
  }

  async finishAttempt(
    id: string,
    owner: string,
    outcome: MessageOutcome,
    tx?: Transaction,
  ): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'queued' || row.leaseOwner !== owner) return false;
    const before = copy(row);
    now(
      tx,
      () => Object.assign(row, outcome, { leaseOwner: null, leaseUntil: null }),
      () => Object.assign(row, before),
    );
    return true;
  }

  async findUnleased(at: Date, limit: number): Promise<MessageEntity[]> {
    return [...this.rows.values()]
      .filter((row) => row.status === 'queued' && lapsed(row, at))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async failExhausted(
    id: string,
    at: Date,
    maxAttempts: number,
    outcome: MessageOutcome,
    tx: Transaction,
  ): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'queued' || !lapsed(row, at) || row.attempts < maxAttempts) return false;
    const before = copy(row);
    now(
      tx,
      () => Object.assign(row, outcome, { leaseOwner: null, leaseUntil: null }),
      () => Object.assign(row, before),
    );
    return true;
  }

  async countQueued(): Promise<number> {
    return [...this.rows.values()].filter((row) => row.status === 'queued').length;
  }

  async eraseUser(userId: string, at: Date, tx: Transaction): Promise<void> {
    for (const row of this.rows.values()) {
      if (row.userId !== userId) continue;
      const before = copy(row);
      now(
        tx,
        () => {
          if (row.status === 'queued') {
            Object.assign(row, {
              status: 'failed',
              leaseOwner: null,
              leaseUntil: null,
              nextAttemptAt: null,
              updatedAt: at,
            });
          }
          row.payload = '{}';
        },
        () => Object.assign(row, before),
      );
    }
  }
}

export class InMemorySubscriptionQuotaRepository extends SubscriptionQuotaRepository {
  /** `${userId} ${templateId}` → units left. */
  readonly rows = new Map<string, number>();

  private static key(userId: string, templateId: string): string {
    return `${userId} ${templateId}`;
  }

  remaining(userId: string, templateId: string): number | undefined {
    return this.rows.get(InMemorySubscriptionQuotaRepository.key(userId, templateId));
  }

  async add(userId: string, templateId: string, delta: number, _at: Date, tx?: Transaction): Promise<void> {
    const key = InMemorySubscriptionQuotaRepository.key(userId, templateId);
    now(
      tx,
      () => this.rows.set(key, (this.rows.get(key) ?? 0) + delta),
      () => {
        const left = (this.rows.get(key) ?? 0) - delta;
        this.rows.set(key, left);
      },
    );
  }

  async clear(userId: string, templateId: string, _at: Date, tx?: Transaction): Promise<void> {
    const key = InMemorySubscriptionQuotaRepository.key(userId, templateId);
    const before = this.rows.get(key);
    if (before === undefined) return;
    now(
      tx,
      () => this.rows.set(key, 0),
      () => this.rows.set(key, before),
    );
  }

  async spend(userId: string, templateId: string, _at: Date, tx: Transaction): Promise<boolean> {
    const key = InMemorySubscriptionQuotaRepository.key(userId, templateId);
    if ((this.rows.get(key) ?? 0) < 1) return false;
    now(
      tx,
      () => this.rows.set(key, this.rows.get(key)! - 1),
      () => this.rows.set(key, this.rows.get(key)! + 1),
    );
    return true;
  }

  async list(userId: string, templateIds?: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [key, left] of [...this.rows.entries()].sort()) {
      const [owner, templateId] = key.split(' ');
      if (owner !== userId) continue;
      if (templateIds ? templateIds.includes(templateId) : left >= 1) out.set(templateId, left);
    }
    return out;
  }

  async deleteUser(userId: string, tx: Transaction): Promise<void> {
    for (const [key, left] of [...this.rows.entries()]) {
      if (!key.startsWith(`${userId} `)) continue;
      now(
        tx,
        () => this.rows.delete(key),
        () => this.rows.set(key, left),
      );
    }
  }
}

/** A queue that only records what is enqueued; `runNext()` hands a job to its worker. */
export class RecordingJobQueue extends JobQueue {
  readonly kind = 'in-process';
  readonly jobs: Array<{ name: string; payload: JobPayload; delayMs: number }> = [];
  readonly handlers = new Map<string, JobHandler>();

  /** Set to make every enqueue fail (Redis unreachable); `refused` counts the attempts. */
  unreachable = false;
  refused = 0;

  async enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<void> {
    if (this.unreachable) {
      this.refused++;
      throw new Error('the job queue did not answer in time');
    }
    this.jobs.push({ name, payload: structuredClone(payload), delayMs: options.delayMs ?? 0 });
  }

  registerWorker<P extends JobPayload>(name: string, handler: JobHandler<P>): void {
    this.handlers.set(name, handler as JobHandler);
  }

  /** The delays of the wake-ups enqueued for one message, in order. */
  delaysFor(messageId: string): number[] {
    return this.jobs.filter((job) => job.payload.messageId === messageId).map((job) => job.delayMs);
  }

  clear(): void {
    this.jobs.length = 0;
  }
}

/** The MP WeChat for subscribe sends: each call takes the next scripted outcome (success when none). */
export class SubscribeWechat implements WechatClient {
  readonly sent: SubscribeMessage[] = [];
  readonly outcomes: Array<Error | 'ok'> = [];
  calls = 0;
  private held: { entered: () => void; gate: Promise<void> } | null = null;

  /** The next send waits for `release()`; `entered` resolves once it has started. */
  holdSend(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (entered = resolve));
    this.held = { entered, gate };
    return { entered: started, release };
  }

  async sendSubscribeMessage(message: SubscribeMessage): Promise<void> {
    this.calls++;
    const held = this.held;
    this.held = null;
    if (held) {
      held.entered();
      await held.gate;
    }
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    this.sent.push(message);
  }

  code2Session(): never {
    throw new Error('not used by messages');
  }
  getPhoneNumber(): never {
    throw new Error('not used by messages');
  }
  checkSessionKey(): never {
    throw new Error('not used by messages');
  }
}

/** The official account, recording sends; each call takes the next scripted outcome. */
export class FakeOfficialClient implements OfficialAccountClient {
  readonly appId = 'wxofficial00000000';
  readonly templates: TemplateMessage[] = [];
  readonly texts: Array<{ openid: string; text: string }> = [];
  readonly outcomes: Array<Error | 'ok'> = [];
  private msgSeq = 200228332;

  private next(): void {
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
  }

  async sendTemplateMessage(message: TemplateMessage): Promise<{ msgId: string }> {
    this.next();
    this.templates.push(message);
    return { msgId: String(this.msgSeq++) };
  }

  async sendCustomText(openid: string, text: string): Promise<void> {
    this.next();
    this.texts.push({ openid, text });
  }

  exchangeOAuthCode(): never {
    throw new Error('not used by messages');
  }
  getOAuthUserInfo(): never {
    throw new Error('not used by messages');
  }
  getFollower(): never {
    throw new Error('not used by messages');
  }
  getJsapiTicket(): never {
    throw new Error('not used by messages');
  }
  createMenu(): never {
    throw new Error('not used by messages');
  }
  getMenu(): never {
    throw new Error('not used by messages');
  }
}

/** Follower records as a set of OA openids on record as unsubscribed. */
export class SetFollowerRecords extends FollowerRecords {
  readonly unsubscribed = new Set<string>();

  async unsubscribedOnRecord(oaOpenid: string): Promise<boolean> {
    return this.unsubscribed.has(oaOpenid);
  }
}

export const MP_APP_ID = 'wx00000000000000aa';

export function messagesWorld(
  options: { policy?: Partial<DeliveryPolicy>; official?: boolean; timeoutMs?: number } = {},
) {
  const world = unitWorld();
  const wechat = new SubscribeWechat();
  const messages = new InMemoryMessageRepository();
  const quotaRows = new InMemorySubscriptionQuotaRepository();
  const uow = new RollbackAwareUnitOfWork();
  const queue = new RecordingJobQueue();
  const metrics = new MessageMetrics(new MetricsService(), messages);
  const policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
  const timeoutMs = options.timeoutMs ?? 1_500;
  const delivery = new MessageDelivery(
    messages,
    quotaRows,
    world.users,
    world.audit,
    metrics,
    uow,
    queue,
    wechat,
    policy,
    { timeoutMs },
  );
  delivery.onModuleInit();
  const subscribe = new SubscribeMessages(messages, quotaRows, world.users, world.audit, delivery, uow);
  const quotas = new SubscriptionQuotas(quotaRows, uow);
  const followers = new SetFollowerRecords();
  const official = new FakeOfficialClient();
  const officialMessages = new OfficialMessages(
    world.users,
    followers,
    world.audit,
    metrics,
    { appId: MP_APP_ID },
    options.official === false ? null : official,
  );
  const erasure = new MessageErasure(messages, quotaRows, world.erasureParticipants);
  erasure.onModuleInit();
  return {
    ...world,
    wechat,
    messages,
    quotaRows,
    messagesUow: uow,
    queue,
    metrics,
    policy,
    timeoutMs,
    delivery,
    subscribe,
    quotas,
    followers,
    official,
    officialMessages,
    /** Runs the worker as the queue would for the deliver job of `messageId`, as of `at`. */
    deliver: (messageId: string, at?: Date) => delivery.deliver(messageId, at),
    deliverJob: DELIVER_JOB,
  };
}

export type MessagesWorld = ReturnType<typeof messagesWorld>;
