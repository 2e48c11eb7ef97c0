import type { Logger } from '@nestjs/common';

/**
 * A feature's sweep of its own table: the other half of the job queue's bargain (job-queue.port.ts),
 * or the whole of a poller's work. Once started it runs a pass at once and then every `everyMs`,
 * one pass at a time (a slow pass delays the next, never overlaps it). The timer only wakes the
 * work: what is due is in the database, so what no job woke (lost, or left by a process that died)
 * or a restart skipped is taken up by the next pass. `run(now)` makes a pass now and resolves when
 * it is done (tests drive sweeps with it, with the `now` they need); `stop()` waits for the pass
 * under way, and a stopped sweep never starts again. A failing pass is logged once until one works.
 */
export class PeriodicSweep {
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private waking = false;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly work: (now: Date) => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.wake(), this.everyMs);
    // A pending pass never keeps the process alive by itself.
    this.timer.unref();
    this.wake();
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
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  /** A tick while a pass is still running or queued adds nothing: the next tick comes soon. */
  private wake(): void {
    if (this.waking || this.stopped) return;
    this.waking = true;
    void this.run().finally(() => {
      this.waking = false;
    });
  }
}
