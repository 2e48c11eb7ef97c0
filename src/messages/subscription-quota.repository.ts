import type { Transaction } from '../database/unit-of-work.js';

/** Subscribe-message quotas per (user, template). Every statement on the table lives here. */
export abstract class SubscriptionQuotaRepository {
  /** +`delta` (made at `delta` when absent); concurrent additions all count. */
  abstract add(userId: string, templateId: string, delta: number, now: Date, tx?: Transaction): Promise<void>;
  /** Sets an existing quota to 0 (none: nothing to do). */
  abstract clear(userId: string, templateId: string, now: Date, tx?: Transaction): Promise<void>;
  /** −1 in one conditional UPDATE while at least 1 is left; false when none was. */
  abstract spend(userId: string, templateId: string, now: Date, tx: Transaction): Promise<boolean>;
  /** The user's quotas, for these templates or (without) every one of at least 1. */
  abstract list(userId: string, templateIds?: readonly string[]): Promise<Map<string, number>>;
  /** Erasure: every quota of the user. */
  abstract deleteUser(userId: string, tx: Transaction): Promise<void>;
}
