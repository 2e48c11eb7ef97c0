import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Transaction } from '../../database/unit-of-work.js';
import { UserErasureParticipants, type UserErasureParticipant } from '../../users/user-erasure.js';
import { FollowerRepository } from './follower.repository.js';

/** A user's erasure deletes the follower records linked to them, in its transaction. */
@Injectable()
export class FollowerErasure implements UserErasureParticipant, OnModuleInit {
  constructor(
    private readonly followers: FollowerRepository,
    private readonly participants: UserErasureParticipants,
  ) {}

  onModuleInit(): void {
    this.participants.register(this);
  }

  eraseUser(userId: string, tx: Transaction): Promise<void> {
    return this.followers.deleteByUser(userId, tx);
  }
}
