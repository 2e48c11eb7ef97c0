import type { Transaction } from '../database/unit-of-work.js';
import type { MessageEntity } from './message.entity.js';

/** `duplicate`: the idempotency key is taken (a concurrent request with it won). */
export type InsertOutcome = 'inserted' | 'duplicate';

/** What a worker writes when its attempt ends: the message's state, its lease given up. */
export type MessageOutcome = Partial<
  Pick<MessageEntity, 'status' | 'wechatErrcode' | 'nextAttemptAt' | 'sentAt' | 'updatedAt'>
>;

/** Subscribe messages. Every statement on `messages` lives behind this port. */
export abstract class MessageRepository {
  /** Inside `tx`; the unique key is an answer, not an error (the caller rolls back and replays). */
  abstract insert(message: MessageEntity, tx: Transaction): Promise<InsertOutcome>;
  abstract findById(id: string): Promise<MessageEntity | null>;
  abstract findByIdempotencyKey(key: string): Promise<MessageEntity | null>;

  /**
   * Claims a message for one attempt by `owner` until `until`, in one conditional UPDATE that also
   * counts the attempt: true for exactly one of several workers asking at once, and only while it
   * is queued, due at `now`, not leased by anyone (or its lease lapsed) and under `maxAttempts`.
   */
  abstract claim(id: string, owner: string, now: Date, until: Date, maxAttempts: number): Promise<boolean>;

  /**
   * Ends `owner`'s attempt: applies `outcome` and clears the lease, only while the message is still
   * queued and leased by `owner` (false otherwise: the erasure failed it meanwhile, or the lease
   * lapsed and another worker took it).
   */
  abstract finishAttempt(
    id: string,
    owner: string,
    outcome: MessageOutcome,
    tx?: Transaction,
  ): Promise<boolean>;

  /**
   * Sweep: `queued` messages nobody holds at `now` (never leased, lease lapsed), oldest first. Some
   * may not be due yet (waiting out their backoff).
   */
  abstract findUnleased(now: Date, limit: number): Promise<MessageEntity[]>;

  /**
   * A queued message whose attempts are all spent and whose last worker died before writing its
   * outcome: applies `outcome` (failed) while it is still so, in one conditional UPDATE.
   */
  abstract failExhausted(
    id: string,
    now: Date,
    maxAttempts: number,
    outcome: MessageOutcome,
    tx: Transaction,
  ): Promise<boolean>;

  abstract countQueued(): Promise<number>;

  /**
   * Erasure, inside its transaction: the user's queued messages fail (their lease dropped, so a
   * worker's outcome no longer lands), and every message of the user loses its payload.
   */
  abstract eraseUser(userId: string, now: Date, tx: Transaction): Promise<void>;
}
