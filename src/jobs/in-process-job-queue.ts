import { Logger } from '@nestjs/common';
import { JobHandlers } from './job-handlers.js';
import { JobQueue, type EnqueueOptions, type JobHandler, type JobPayload } from './job-queue.port.js';

interface Job {
  name: string;
  payload: JobPayload;
}

/**
 * The queue without Redis (one instance): jobs wait in memory, delayed ones on an unref'd timer, and
 * at most `concurrency` run at once. What it holds is lost with the process, which the port allows:
 * the rows a job names are found again by their feature's sweep at the next start.
 */
export class InProcessJobQueue extends JobQueue {
  readonly kind = 'in-process';
  private readonly log = new Logger('Jobs');
  private readonly handlers = new JobHandlers(this.log);
  private readonly ready: Job[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;
  private stopped = false;

  constructor(private readonly concurrency: number) {
    super();
  }

  registerWorker<P extends JobPayload>(name: string, handler: JobHandler<P>): void {
    this.handlers.register(name, handler as JobHandler);
  }

  enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // A copy, as Redis would hand the worker: the caller's object may change after this.
    const job: Job = { name, payload: structuredClone(payload) };
    const delayMs = Math.max(0, options.delayMs ?? 0);
    if (delayMs === 0) {
      this.ready.push(job);
      this.pump();
      return Promise.resolve();
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(job);
      this.pump();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
    return Promise.resolve();
  }

  /** Workers run from now on (jobs enqueued before wait until then). */
  start(): void {
    this.started = true;
    this.pump();
  }

  /** No job starts any more, those waiting are dropped, and the ones running are awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    await this.handlers.settled();
  }

  /** Tests: jobs waiting for a free worker, and those on a timer. */
  get pending(): { ready: number; delayed: number; running: number } {
    return { ready: this.ready.length, delayed: this.timers.size, running: this.handlers.busy };
  }

  /** Tests: resolves when no job is ready or running (delayed ones may remain). */
  async idle(): Promise<void> {
    while (this.ready.length > 0 || this.handlers.busy > 0) {
      await this.handlers.settled();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private pump(): void {
    if (!this.started || this.stopped) return;
    while (this.handlers.busy < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      void this.handlers.run(job.name, job.payload).finally(() => this.pump());
    }
  }
}
