import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Redis } from 'ioredis';
import { redisConfig } from '../config/config.slices.js';

/** How long start-up waits for Redis before it starts without it. */
const START_WAIT_MS = 2_000;

function untilReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.on('ready', done);
  });
}

/**
 * The Redis connections of this instance, or none when REDIS_URL is unset (one instance, state in
 * process). Commands fail fast while Redis is unreachable (no offline queue, short command
 * timeout), so a request that needs Redis answers 503 quickly instead of hanging; the client keeps
 * reconnecting in the background, so the service recovers without a restart.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  /** Commands; null without REDIS_URL. */
  readonly client: Redis | null;
  /** Pub/sub needs a connection of its own. */
  readonly subscriber: Redis | null;

  constructor(@Inject(redisConfig.KEY) { url }: ConfigType<typeof redisConfig>) {
    this.client = url ? this.connect(url, 'client') : null;
    this.subscriber = url ? this.connect(url, 'subscriber') : null;
  }

  /**
   * Start-up waits (a little) for the connections, so the first requests after start do not meet a
   * client still connecting and answer 503. Redis down at start is no reason not to start: after
   * the wait the service starts anyway, not ready, and reconnects in the background.
   */
  async onModuleInit(): Promise<void> {
    await Promise.all(
      [this.client, this.subscriber].map((redis) => redis && untilReady(redis, START_WAIT_MS)),
    );
  }

  private connect(url: string, role: string): Redis {
    const redis = new Redis(url, {
      connectionName: `wechat-backend-${role}`,
      enableOfflineQueue: role === 'subscriber',
      // The ready check (INFO) is refused on a connection whose queued SUBSCRIBE went out first;
      // ioredis then treats the connection as failed and drops the queued subscriptions.
      enableReadyCheck: role !== 'subscriber',
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: role === 'subscriber' ? undefined : 1500,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      keepAlive: 5000,
    });
    let down = false;
    redis.on('error', (error: Error) => {
      if (!down) this.logger.warn(`${role} connection error: ${error.message}`);
      down = true;
    });
    redis.on('ready', () => {
      if (down) this.logger.log(`${role} connection restored`);
      down = false;
    });
    return redis;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [this.client, this.subscriber].map(async (redis) => {
        if (!redis) return;
        // QUIT waits for an answer: on a connection that is not ready (Redis down, or accepting and
        // closing at once) it would hold the shutdown forever, so such a connection is just closed.
        if (redis.status !== 'ready') {
          redis.disconnect();
          return;
        }
        try {
          await redis.quit();
        } catch {
          redis.disconnect();
        }
      }),
    );
  }
}
