import type { Logger } from '@nestjs/common';
import type { JobHandler, JobPayload } from './job-queue.port.js';

/** The workers by job name, and the jobs running now: what both adapters share. */
export class JobHandlers {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  register(name: string, handler: JobHandler): void {
    if (this.handlers.has(name)) throw new Error(`a worker for jobs named ${name} is already registered`);
    this.handlers.set(name, handler);
  }

  /** Runs the job's worker; a failure is logged, never thrown (the feature's rows hold the retry). */
  run(name: string, payload: JobPayload): Promise<void> {
    const handler = this.handlers.get(name);
    if (!handler) {
      this.log.warn(`no worker for jobs named ${name}: job dropped`);
      return Promise.resolve();
    }
    const job = handler(payload).catch((error: unknown) => {
      this.log.warn(`job ${name} failed: ${(error as Error)?.message ?? String(error)}`);
    });
    this.running.add(job);
    void job.finally(() => this.running.delete(job));
    return job;
  }

  get busy(): number {
    return this.running.size;
  }

  /** Resolves when every job running now (and any they start meanwhile) has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
