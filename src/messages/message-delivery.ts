import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { wechatConfig, type WechatSlice } from '../config/config.slices.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { JobQueue } from '../jobs/job-queue.port.js';
import { PeriodicSweep } from '../jobs/periodic-sweep.js';
import { UsersService } from '../users/users.service.js';
import { WECHAT_CLIENT, type SubscribeMessage, type WechatClient } from '../wechat/wechat-client.port.js';
import {
  afterFailure,
  DELIVERY_POLICY,
  type AttemptOutcome,
  type DeliveryPolicy,
} from './delivery-policy.js';
import { MessageMetrics } from './message-metrics.js';
import type { MessageEntity } from './message.entity.js';
import { MessageRepository } from './message.repository.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';

/** The job that wakes the worker for one message. */
export const DELIVER_JOB = 'messages.subscribe.deliver';

/** What is stored of a message besides its row's columns: what WeChat needs but the openid. */
export interface SubscribePayload {
  data: Record<string, { value: string }>;
  page?: string;
  miniprogramState?: SubscribeMessage['miniprogramState'];
  lang?: string;
}

/**
 * The worker of subscribe messages, on every instance. The row is the record; a job only says
 * "look at this message". An attempt: claim the row (one conditional UPDATE that also counts the
 * attempt, with a lease of WECHAT_TIMEOUT_MS + 10 s, so at most one instance sends a message at any
 * time), one call to WeChat, then the outcome written under the same lease: sent; another attempt
 * after 1, 2, 4, 8 s (its job enqueued with that delay); or failed, the quota cleared (43101) or
 * given back. Before calling WeChat the worker also enqueues a wake-up for when its lease lapses,
 * so a message whose instance dies mid-send is taken up by another once the lease allows.
 *
 * The sweep (at start-up and every 30 s) takes up queued messages nobody holds: their job lost
 * (Redis down, a restart of the in-process queue) or their worker gone.
 */
@Injectable()
export class MessageDelivery implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('MessageDelivery');
  /** This instance, as the lease names it. */
  private readonly owner = randomUUID();
  private readonly leaseMs: number;
  private readonly sweep: PeriodicSweep;

  constructor(
    private readonly messages: MessageRepository,
    private readonly quotas: SubscriptionQuotaRepository,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly metrics: MessageMetrics,
    private readonly uow: UnitOfWork,
    private readonly queue: JobQueue,
    @Inject(WECHAT_CLIENT) private readonly wechat: WechatClient,
    @Inject(DELIVERY_POLICY) private readonly policy: DeliveryPolicy,
    @Inject(wechatConfig.KEY) config: Pick<WechatSlice, 'timeoutMs'>,
  ) {
    this.leaseMs = config.timeoutMs + policy.leaseMarginMs;
    this.sweep = new PeriodicSweep(
      'message sweep',
      policy.sweepEveryMs,
      (now) => this.sweepPass(now),
      this.log,
    );
  }

  onModuleInit(): void {
    this.queue.registerWorker<{ messageId: string }>(DELIVER_JOB, ({ messageId }) => this.deliver(messageId));
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweep.stop();
  }

  /**
   * Wakes a worker for `messageId` (now, or after `delayMs`); false when the queue could not take
   * the job. Never throws: a job that could not be enqueued is the sweep's to find.
   */
  async wake(messageId: string, delayMs = 0): Promise<boolean> {
    try {
      await this.queue.enqueue(DELIVER_JOB, { messageId }, { delayMs });
      return true;
    } catch (error) {
      this.log.warn(
        `message ${messageId}: not enqueued (${(error as Error)?.message ?? String(error)}); the sweep takes it up`,
      );
      return false;
    }
  }

  /** Tests: one sweep as of `now`, after any under way. */
  sweepNow(now?: Date): Promise<void> {
    return this.sweep.run(now);
  }

  /** One attempt at `messageId` if it is due and free at `now`; resolves when its outcome is stored. */
  async deliver(messageId: string, now: Date = new Date()): Promise<void> {
    const until = new Date(now.getTime() + this.leaseMs);
    if (!(await this.messages.claim(messageId, this.owner, now, until, this.policy.maxAttempts))) {
      await this.wakeWhenDue(messageId, now);
      return;
    }
    const message = await this.messages.findById(messageId);
    if (!message) return;
    // Should this instance die during the call, another takes the message up once the lease lapses.
    await this.wake(messageId, this.leaseMs + 100);
    const outcome = await this.attempt(message);
    // The outcome's time: now, or the `now` a test drove the clock ahead to.
    await this.record(message, outcome, new Date(Math.max(Date.now(), now.getTime())));
  }

  private async attempt(message: MessageEntity): Promise<'sent' | AttemptOutcome> {
    try {
      const touser = await this.openidOf(message.userId);
      if (!touser) return { kind: 'failed', wechatErrcode: null, quota: 'returned' };
      const payload = JSON.parse(message.payload) as SubscribePayload;
      await this.wechat.sendSubscribeMessage({
        touser,
        templateId: message.templateId,
        data: payload.data,
        page: payload.page,
        miniprogramState: payload.miniprogramState,
        lang: payload.lang,
      });
      return 'sent';
    } catch (error) {
      // A failure without an errcode (WeChat unreachable, or our database or Redis) is tried again.
      const outcome = afterFailure(error, message.attempts, this.policy);
      const why =
        outcome.wechatErrcode === null ? (error as Error)?.message : `errcode ${outcome.wechatErrcode}`;
      this.log.warn(`message ${message.id}: attempt ${message.attempts} failed (${why})`);
      return outcome;
    }
  }

  /** The user's MP openid now; null when the user is gone (erased) or never used the mini-program. */
  private async openidOf(userId: string): Promise<string | null> {
    try {
      return (await this.users.getVisible(userId)).openid;
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) return null;
      throw error;
    }
  }

  private async record(message: MessageEntity, outcome: 'sent' | AttemptOutcome, now: Date): Promise<void> {
    if (outcome !== 'sent' && outcome.kind === 'retry') {
      const nextAttemptAt = new Date(now.getTime() + outcome.delayMs);
      const kept = await this.messages.finishAttempt(message.id, this.owner, {
        wechatErrcode: outcome.wechatErrcode,
        nextAttemptAt,
        updatedAt: now,
      });
      if (kept) await this.wake(message.id, outcome.delayMs);
      else this.lostLease(message);
      return;
    }
    const ended = await this.uow.run(async (tx) => {
      const finished = await this.messages.finishAttempt(
        message.id,
        this.owner,
        outcome === 'sent'
          ? { status: 'sent', wechatErrcode: 0, sentAt: now, nextAttemptAt: null, updatedAt: now }
          : { status: 'failed', wechatErrcode: outcome.wechatErrcode, nextAttemptAt: null, updatedAt: now },
        tx,
      );
      if (!finished) return false;
      if (outcome === 'sent') {
        await this.audit.record(
          'subscribe_message_sent',
          { userId: message.userId, actorId: message.actorId, detail: `message ${message.id}` },
          tx,
        );
      } else if (outcome.quota === 'cleared') {
        await this.quotas.clear(message.userId, message.templateId, now, tx);
      } else {
        await this.quotas.add(message.userId, message.templateId, 1, now, tx);
      }
      return true;
    });
    if (!ended) return this.lostLease(message);
    this.metrics.count('subscribe', outcome === 'sent' ? 'sent' : 'failed');
  }

  private lostLease(message: MessageEntity): void {
    // Erased meanwhile (failed by the erasure), or held past its lease and taken by another worker.
    this.log.warn(`message ${message.id}: its outcome was not stored (no longer queued under this claim)`);
  }

  /** A message not claimable now because it waits out its backoff: woken when it is due. */
  private async wakeWhenDue(messageId: string, now: Date): Promise<void> {
    const message = await this.messages.findById(messageId);
    if (!message || message.status !== 'queued') return;
    if (message.leaseUntil && message.leaseUntil.getTime() >= now.getTime()) return;
    const due = message.nextAttemptAt?.getTime() ?? 0;
    if (due > now.getTime()) await this.wake(messageId, due - now.getTime());
  }

  private async sweepPass(now: Date): Promise<void> {
    const waiting = await this.messages.findUnleased(now, this.policy.sweepBatch);
    for (const message of waiting) {
      if (message.attempts >= this.policy.maxAttempts) {
        await this.failExhausted(message, now);
        continue;
      }
      const due = message.nextAttemptAt?.getTime() ?? 0;
      // The queue is unreachable (Redis down): the rest wait for the next pass.
      if (!(await this.wake(message.id, Math.max(0, due - now.getTime())))) return;
    }
  }

  /**
   * Its last attempt began but its worker died before writing what came of it: failed as after a
   * last failed attempt (the unit given back). WeChat may have delivered it; the row cannot know.
   */
  private async failExhausted(message: MessageEntity, now: Date): Promise<void> {
    const failed = await this.uow.run(async (tx) => {
      const done = await this.messages.failExhausted(
        message.id,
        now,
        this.policy.maxAttempts,
        { status: 'failed', nextAttemptAt: null, updatedAt: now },
        tx,
      );
      if (done) await this.quotas.add(message.userId, message.templateId, 1, now, tx);
      return done;
    });
    if (failed) this.metrics.count('subscribe', 'failed');
  }
}
