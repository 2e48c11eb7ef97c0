import { Injectable } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work.js';

/**
 * What another module keeps about a user and must blank when the user is erased (orders' shipping
 * addresses). Users cannot import those modules (layers), so each registers here at start-up and
 * the erasure calls them all inside its one transaction: all of it lands, or none.
 */
export interface UserErasureParticipant {
  /** Runs inside the erasure's transaction; a failure rolls the whole erasure back. */
  eraseUser(userId: string, tx: Transaction): Promise<void>;
}

@Injectable()
export class UserErasureParticipants {
  private readonly participants: UserErasureParticipant[] = [];

  register(participant: UserErasureParticipant): void {
    if (!this.participants.includes(participant)) this.participants.push(participant);
  }

  async eraseUser(userId: string, tx: Transaction): Promise<void> {
    for (const participant of this.participants) await participant.eraseUser(userId, tx);
  }
}
