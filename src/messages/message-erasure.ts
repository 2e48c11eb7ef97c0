import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work.js';
import { UserErasureParticipants, type UserErasureParticipant } from '../users/user-erasure.js';
import { MessageRepository } from './message.repository.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';

/**
 * A user's erasure, in its transaction: their quotas go, their queued subscribe messages fail (a
 * worker sending one at that moment no longer stores its outcome) and every message of theirs
 * loses its template data. The rows stay (ids, status, times) for the admin's reads.
 */
@Injectable()
export class MessageErasure implements UserErasureParticipant, OnModuleInit {
  constructor(
    private readonly messages: MessageRepository,
    private readonly quotas: SubscriptionQuotaRepository,
    private readonly participants: UserErasureParticipants,
  ) {}

  onModuleInit(): void {
    this.participants.register(this);
  }

  async eraseUser(userId: string, tx: Transaction): Promise<void> {
    await this.quotas.deleteUser(userId, tx);
    await this.messages.eraseUser(userId, new Date(), tx);
  }
}
