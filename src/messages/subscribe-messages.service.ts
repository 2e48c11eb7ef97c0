import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { UsersService } from '../users/users.service.js';
import { MessageDelivery, type SubscribePayload } from './message-delivery.js';
import type { MessageEntity } from './message.entity.js';
import { MessageRepository } from './message.repository.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';

export interface SubscribeRequest extends SubscribePayload {
  userId: string;
  templateId: string;
  idempotencyKey: string;
}

/** The request as parsed, keys in a fixed order: what makes two requests with one key "the same". */
export function requestHash(request: SubscribeRequest): string {
  const data = Object.fromEntries(
    Object.keys(request.data)
      .sort()
      .map((key) => [key, request.data[key].value]),
  );
  const canonical = JSON.stringify([
    request.userId,
    request.templateId,
    data,
    request.page ?? null,
    request.miniprogramState ?? null,
    request.lang ?? null,
    request.idempotencyKey,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The insert met the unique key: a concurrent request with this key won. Thrown so that the
 * transaction rolls this request's spent unit back before the winner's message is read.
 */
class Taken extends Error {}

const ATTEMPTS = 3;

/** POST /admin/messages/subscribe and GET /admin/messages/:id. */
@Injectable()
export class SubscribeMessages {
  constructor(
    private readonly messages: MessageRepository,
    private readonly quotas: SubscriptionQuotaRepository,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly delivery: MessageDelivery,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * Decided in the contract's order: a known key with the same body is that message as it is now
   * (nothing spent; another body 40901); an unknown user 404; no MP openid 40921; no quota 40920.
   * The unit is spent in the transaction that writes the queued message, so of concurrent sends for
   * one unit one wins; of concurrent requests with one new key, the unique key lets one make the
   * message and the others answer it. The worker is woken after the commit.
   */
  async send(actorId: string, request: SubscribeRequest, meta?: RequestMeta): Promise<MessageEntity> {
    const hash = requestHash(request);
    const earlier = await this.replay(request.idempotencyKey, hash);
    if (earlier) return earlier;
    const user = await this.users.getVisible(request.userId);
    if (!user.openid) {
      throw new AppError(ErrorCode.NO_IDENTITY_IN_APP, 'the user has not used the mini-program');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uow.run((tx) => this.queue(actorId, request, hash, meta, tx));
      } catch (error) {
        // Losing to a concurrent request with this key shows as the key taken or, when it spent
        // the last unit first, as no quota: either way its message is the answer.
        if (error instanceof Taken || isCode(error, ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED)) {
          const winner = await this.replay(request.idempotencyKey, hash);
          if (winner) return winner;
        }
        if (!(error instanceof Taken)) throw error;
        if (attempt >= ATTEMPTS) {
          throw new AppError(ErrorCode.CONFLICT, 'the message could not be stored; try again', {
            cause: error,
          });
        }
      }
    }
  }

  async get(id: string): Promise<MessageEntity> {
    const message = await this.messages.findById(id);
    if (!message) throw new AppError(ErrorCode.NOT_FOUND, 'no such message');
    return message;
  }

  private async replay(key: string, hash: string): Promise<MessageEntity | null> {
    const existing = await this.messages.findByIdempotencyKey(key);
    if (!existing) return null;
    if (existing.requestHash !== hash) {
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'this idempotencyKey was used with another body');
    }
    return existing;
  }

  private async queue(
    actorId: string,
    request: SubscribeRequest,
    hash: string,
    meta: RequestMeta | undefined,
    tx: Transaction,
  ): Promise<MessageEntity> {
    const now = new Date();
    const payload: SubscribePayload = { data: request.data };
    if (request.page !== undefined) payload.page = request.page;
    if (request.miniprogramState !== undefined) payload.miniprogramState = request.miniprogramState;
    if (request.lang !== undefined) payload.lang = request.lang;
    const message: MessageEntity = {
      id: randomUUID(),
      kind: 'subscribe',
      userId: request.userId,
      templateId: request.templateId,
      idempotencyKey: request.idempotencyKey,
      requestHash: hash,
      payload: JSON.stringify(payload),
      status: 'queued',
      attempts: 0,
      wechatErrcode: null,
      nextAttemptAt: null,
      leaseOwner: null,
      leaseUntil: null,
      actorId,
      createdAt: now,
      sentAt: null,
      updatedAt: now,
    };
    // The key first: a concurrent request with it waits here for the winner, then answers its message.
    if ((await this.messages.insert(message, tx)) === 'duplicate') throw new Taken();
    if (!(await this.quotas.spend(request.userId, request.templateId, now, tx))) {
      throw new AppError(ErrorCode.SUBSCRIBE_QUOTA_EXHAUSTED);
    }
    await this.audit.record(
      'subscribe_message_queued',
      { userId: request.userId, actorId, meta, detail: `message ${message.id}` },
      tx,
    );
    // Not awaited: the answer never waits for Redis; a job that could not be enqueued is swept.
    tx.afterCommit(() => void this.delivery.wake(message.id));
    return message;
  }
}

function isCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof AppError && error.code === code;
}
