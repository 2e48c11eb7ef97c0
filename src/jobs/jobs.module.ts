import {
  Inject,
  Injectable,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { BullJobQueue, JOBS_QUEUE_NAME, producerConnection } from './bullmq-job-queue.js';
import { InProcessJobQueue } from './in-process-job-queue.js';
import { JobQueue } from './job-queue.port.js';

export interface JobsModuleOptions {
  /** REDIS_URL; without it the queue is in-process (one instance). */
  redisUrl?: string;
  /** Key prefix in Redis (the service's keys all start with `wxb`). */
  prefix?: string;
  /** Jobs one instance runs at once. */
  concurrency?: number;
}

const DEFAULT_PREFIX = 'wxb';
const DEFAULT_CONCURRENCY = 8;

/** Starts the workers once every module is initialised, and stops them before anything closes. */
@Injectable()
class JobWorkersLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(JobQueue) private readonly queue: BullJobQueue | InProcessJobQueue) {}

  onApplicationBootstrap(): void {
    new Logger('Jobs').log(`job queue: ${this.queue.kind}`);
    this.queue.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.queue.stop();
  }
}

/**
 * The job queue (job-queue.port.ts) for the whole app, global so that any feature injects JobQueue:
 * BullMQ through @nestjs/bullmq when REDIS_URL is set, in-process otherwise.
 */
@Module({})
export class JobsModule {
  static register(options: JobsModuleOptions): DynamicModule {
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    const url = options.redisUrl;
    if (!url) {
      return {
        module: JobsModule,
        global: true,
        providers: [
          { provide: JobQueue, useFactory: () => new InProcessJobQueue(concurrency) },
          JobWorkersLifecycle,
        ],
        exports: [JobQueue],
      };
    }
    return {
      module: JobsModule,
      global: true,
      imports: [
        BullModule.registerQueue({
          name: JOBS_QUEUE_NAME,
          connection: producerConnection(url),
          prefix,
          // Off: @nestjs/bullmq's forced disconnect first awaits the connection's client, which never
          // settles while Redis has been unreachable since start-up, so the shutdown hung forever.
          // The queue's own close() is enough: it quits a ready connection and cuts one that is not.
          forceDisconnectOnShutdown: false,
        }),
      ],
      providers: [
        {
          provide: JobQueue,
          inject: [getQueueToken(JOBS_QUEUE_NAME)],
          useFactory: (queue: Queue) => new BullJobQueue(queue, { url, prefix, concurrency }),
        },
        JobWorkersLifecycle,
      ],
      exports: [JobQueue],
    };
  }
}
