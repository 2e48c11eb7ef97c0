import type { Logger } from '@nestjs/common';

/** How often the orders module's pollers look at the database, and how long they hold and wait. */
export interface OrderPolling {
  /** Overdue pending_payment orders are looked for this often (the contract: at least every 5 s). */
  expiryEveryMs: number;
  /** Refunds due for a query are looked for this often. */
  refundsEveryMs: number;
  /** An instance settling an order or querying a refund holds it this long at most. */
  leaseMs: number;
  /** One that could not be settled or ended is tried again after this (at least every 60 s). */
  retryAfterMs: number;
}

export const ORDER_POLLING = Symbol('ORDER_POLLING');

export const DEFAULT_ORDER_POLLING: OrderPolling = {
  expiryEveryMs: 2_000,
  refundsEveryMs: 5_000,
  leaseMs: 30_000,
  retryAfterMs: 30_000,
};

/**
 * Runs `work` every `everyMs` once started, one pass at a time (a slow pass delays the next, never
 * overlaps it). The timer only wakes the work: what is due is in the database, so a pass missed by
 * a restart is made by the next one. `run()` makes a pass now and resolves when it is done (tests
 * drive the pollers with it, with the `now` they need); `stop()` waits for the pass under way.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private waking = false;
  private failing = false;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly work: (now: Date) => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.wake(), this.everyMs);
    // A pending pass never keeps the process alive by itself.
    this.timer.unref();
  }

  run(now?: Date): Promise<void> {
    const pass = this.queue.then(async () => {
      try {
        await this.work(now ?? new Date());
        if (this.failing) this.log.log(`${this.name}: passes work again`);
        this.failing = false;
      } catch (error) {
        // A database that is down fails every pass: said once, until a pass works again.
        const line = `${this.name} pass failed: ${(error as Error)?.message ?? String(error)}`;
        if (this.failing) this.log.debug(line);
        else this.log.warn(line);
        this.failing = true;
      }
    });
    this.queue = pass;
    return pass;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  /** A tick while a pass is still running or queued adds nothing: the next tick comes soon. */
  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    void this.run().finally(() => {
      this.waking = false;
    });
  }
}

/** `work` over `items`, at most `parallel` at a time. */
export async function eachLimited<T>(
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
