import type { Logger } from '@nestjs/common';

/** Rows taken per pass, and settled side by side (each may wait on WeChat Pay). */
const BATCH = 50;
const PARALLEL = 4;

/** What a poller of the orders' tables says of its rows; the pass itself is LeasedSweep's. */
export interface LeasedRows<T extends { id: string }> {
  /** How the log names one row: `order`, `refund`. */
  noun: string;
  /** How the log says a row's settling failed: `not settled yet`. */
  unsettled: string;
  /** Rows due at `now`, at most `limit`. */
  findDue(now: Date, limit: number): Promise<T[]>;
  /** One conditional UPDATE, so of several instances at once exactly one gets true. */
  claim(row: T, now: Date): Promise<boolean>;
  settle(row: T): Promise<void>;
  /**
   * Ends the claim, with when to try again (null when settled). Without it the claim is its own
   * end: it moved the row's next attempt on already.
   */
  release?(row: T, nextAttemptAt: Date | null): Promise<void>;
}

/**
 * One pass of a poller: the due rows, each claimed (a row another instance holds is skipped),
 * settled and released. A row that could not be settled is logged and waits `retryAfterMs`; the
 * next pass after that takes it up again, on this instance or another.
 */
export class LeasedSweep<T extends { id: string }> {
  constructor(
    private readonly rows: LeasedRows<T>,
    private readonly retryAfterMs: number,
    private readonly log: Logger,
  ) {}

  async pass(now: Date): Promise<void> {
    const due = await this.rows.findDue(now, BATCH);
    await eachLimited(due, PARALLEL, (row) => this.settle(row, now));
  }

  private async settle(row: T, now: Date): Promise<void> {
    if (!(await this.rows.claim(row, now))) return;
    let nextAttemptAt: Date | null = null;
    try {
      await this.rows.settle(row);
    } catch (error) {
      nextAttemptAt = new Date(now.getTime() + this.retryAfterMs);
      const reason = (error as Error)?.message ?? String(error);
      this.log.warn(`${this.rows.noun} ${row.id} ${this.rows.unsettled}: ${reason}`);
    }
    await this.rows.release?.(row, nextAttemptAt);
  }
}

/** `work` over `items`, at most `parallel` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  parallel: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, lane));
}
