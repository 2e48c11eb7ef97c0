import { Logger } from '@nestjs/common';
import { Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { JobHandlers } from './job-handlers.js';
import { JobQueue, type EnqueueOptions, type JobHandler, type JobPayload } from './job-queue.port.js';

/** The one BullMQ queue of the service; job names tell the workers apart. */
export const JOBS_QUEUE_NAME = 'jobs';

/** How long an enqueue may wait for Redis before it is given up (the feature's sweep recovers it). */
const ENQUEUE_TIMEOUT_MS = 2_000;
/** After the last job has ended, how long closing may wait for Redis before the sockets are cut. */
const CLOSE_GRACE_MS = 2_000;

export interface BullJobQueueOptions {
  /** REDIS_URL. */
  url: string;
  /** Key prefix: the queue's keys are `<prefix>:jobs:…`. */
  prefix: string;
  /** Jobs run at once by this instance. */
  concurrency: number;
}

/**
 * ioredis options from a `redis[s]://[user:password@]host:port[/db]` URL. BullMQ makes its own
 * connections from options (a worker needs a blocking one besides), so it gets options, not a
 * client; the URL was validated at start-up.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 2_000,
  };
}

/**
 * The producer's connection fails fast while Redis is unreachable (no offline queue), like every
 * other Redis command of the service, so an enqueue never holds a request.
 */
export function producerConnection(url: string): ConnectionOptions {
  return {
    ...redisOptionsFromUrl(url),
    connectionName: 'wechat-backend-jobs',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  };
}

/**
 * BullMQ on REDIS_URL: every instance adds to one queue and runs a worker on it, so a job enqueued
 * by one instance may run on any. The producer is @nestjs/bullmq's queue (it closes it at shutdown).
 * The worker is made here rather than by a @Processor class: it starts only once every feature has
 * registered its handlers, and it is closed before the application shutdown hooks close the
 * database (Nest's explorer would close it in the same phase as the database).
 *
 * BullMQ's own retries are off (one attempt, no stalled-job replay worth relying on): a job is a
 * wake-up call, and a handler's failure only means its row waits for the next sweep.
 */
export class BullJobQueue extends JobQueue {
  readonly kind = 'bullmq';
  private readonly log = new Logger('Jobs');
  private readonly handlers = new JobHandlers(this.log);
  private worker: Worker | null = null;
  private stopped = false;
  private workerFailing = false;

  constructor(
    private readonly queue: Queue,
    private readonly options: BullJobQueueOptions,
  ) {
    super();
    queue.on('error', (error: Error) => this.log.debug(`queue connection: ${error.message}`));
  }

  registerWorker<P extends JobPayload>(name: string, handler: JobHandler<P>): void {
    this.handlers.register(name, handler as JobHandler);
  }

  async enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<void> {
    if (this.stopped) return;
    const delay = Math.max(0, Math.round(options.delayMs ?? 0));
    const added = this.queue.add(name, payload, {
      delay,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    });
    if (
      !(await within(
        added.then(() => true),
        ENQUEUE_TIMEOUT_MS,
        false,
      ))
    ) {
      throw new Error('the job queue did not answer in time');
    }
  }

  start(): void {
    if (this.worker || this.stopped) return;
    this.worker = new Worker(
      JOBS_QUEUE_NAME,
      (job: Job) => this.handlers.run(job.name, job.data as JobPayload),
      {
        connection: {
          ...redisOptionsFromUrl(this.options.url),
          connectionName: 'wechat-backend-worker',
          // No reconnecting once stopped: BullMQ's close() and disconnect() wait for a connection
          // that comes up, so with Redis down its sockets would retry (and keep the process alive)
          // forever; ending them settles both. The delay is capped as low as our other clients'.
          retryStrategy: (attempt: number) => (this.stopped ? null : Math.min(100 * attempt, 1_000)),
        },
        prefix: this.options.prefix,
        concurrency: this.options.concurrency,
        // A job whose worker died is not worth running again later: the sweep already covers its row.
        maxStalledCount: 0,
      },
    );
    this.worker.on('error', (error: Error) => {
      // Redis down fails every poll: said once, until the worker works again.
      if (!this.workerFailing) this.log.warn(`job worker: ${error.message}`);
      this.workerFailing = true;
    });
    this.worker.on('ready', () => {
      if (this.workerFailing) this.log.log('job worker connected again');
      this.workerFailing = false;
    });
  }

  /**
   * No job is taken any more; those running are awaited; then the worker's connections close (cut
   * after a short grace when Redis does not answer, since nothing of ours runs any more).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    const closing = worker.close().then(
      () => true,
      (error: unknown) => {
        this.log.warn(`job worker close: ${(error as Error)?.message ?? String(error)}`);
        return false;
      },
    );
    await this.handlers.settled();
    // A worker whose Redis is down now cannot close cleanly at all: no grace is waited for it.
    const graceMs = this.workerFailing ? 0 : CLOSE_GRACE_MS;
    if (await within(closing, graceMs, false)) return;
    this.log.warn('job worker did not close in time: its connections are cut');
    // BullMQ's disconnect() also waits for Redis while it is unreachable: bounded the same way,
    // so a shutdown with Redis down still ends (nothing of ours runs on the worker any more).
    await within(
      worker.disconnect().catch(() => undefined),
      graceMs,
      undefined,
    );
  }
}

/** What `work` gives if it settles within `ms`, else `otherwise` (the work goes on unawaited). */
async function within<T>(work: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(resolve, ms, otherwise);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
