import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { RateLimitStore, type WindowCount } from './rate-limit-store.port.js';

/**
 * rate-limiter-flexible's fixed windows: atomic counters in Redis (shared by every instance), or in
 * process memory for one instance. The store has no point limit (every call is counted); the
 * service compares the count with the limit.
 */
export class FlexibleRateLimitStore extends RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  /** `redis` null: this process's memory. */
  constructor(private readonly redis: Redis | null) {
    super();
  }

  async hit(limit: string, key: string, windowSeconds: number): Promise<WindowCount> {
    let res: RateLimiterRes;
    try {
      res = await this.limiter(limit, windowSeconds).consume(key, 1);
    } catch (rejection) {
      // The library rejects with an Error when Redis fails, and with the result when over points.
      if (rejection instanceof Error) throw rejection;
      res = rejection as RateLimiterRes;
    }
    return { count: res.consumedPoints, msUntilReset: res.msBeforeNext };
  }

  private limiter(limit: string, windowSeconds: number): RateLimiterAbstract {
    const name = `${limit}:${windowSeconds}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      const options = {
        points: Number.MAX_SAFE_INTEGER,
        duration: windowSeconds,
        keyPrefix: `wxb:rl:${limit}`,
      };
      limiter = this.redis
        ? new RateLimiterRedis({ ...options, storeClient: this.redis })
        : new RateLimiterMemory(options);
      this.limiters.set(name, limiter);
    }
    return limiter;
  }
}
