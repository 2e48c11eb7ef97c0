/**
 * Background work for the whole service: a feature enqueues a named job and registers one worker
 * per name. Two adapters (jobs.module.ts): BullMQ on REDIS_URL, shared by every instance (any of
 * them may run a job another enqueued), and an in-process queue without Redis.
 *
 * A job only wakes a worker; it is never the record of what is to be done. Its payload names rows
 * (an id), and the database says whether they are still due. A job may be lost (Redis unreachable
 * when it was enqueued, a process killed with its timers) or run twice, on two instances at once, so
 * a worker claims its row before acting (a conditional UPDATE) and the feature sweeps its table for
 * what no job woke. A handler's failure is logged and the job dropped: retries are the feature's,
 * written to its rows.
 */
export type JobPayload = Record<string, string | number | boolean | null>;

export interface EnqueueOptions {
  /** Not before this many milliseconds from now (0 or absent: as soon as a worker is free). */
  delayMs?: number;
}

export type JobHandler<P extends JobPayload = JobPayload> = (payload: P) => Promise<void>;

export abstract class JobQueue {
  /** `bullmq` (shared through Redis) or `in-process`. */
  abstract readonly kind: 'bullmq' | 'in-process';

  /**
   * Hands the job over. Resolves once the queue holds it; rejects when it could not (Redis
   * unreachable: within a couple of seconds, never hanging the caller). After shutdown has begun a
   * job is dropped: the rows it names are found again by the next instance's sweep.
   */
  abstract enqueue(name: string, payload: JobPayload, options?: EnqueueOptions): Promise<void>;

  /**
   * The worker of jobs named `name`: one per name, registered before the application has started
   * (in onModuleInit). Workers run once every module is initialised and stop before the
   * application closes its database and Redis connections, after the jobs under way have ended.
   */
  abstract registerWorker<P extends JobPayload>(name: string, handler: JobHandler<P>): void;
}
