import type { ThrottlerStorage } from '@nestjs/throttler';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * @nestjs/throttler's storage on rate-limiter-flexible: a fixed window per key where every call
 * counts, kept in memory for one instance or atomically in Redis for several (the limiter is
 * chosen by the module). STACK.md: the Redis storages published for throttler stop at Nest 11.
 */
export class FlexibleThrottlerStorage implements ThrottlerStorage {
  private readonly limiters = new Map<number, RateLimiterAbstract>();

  constructor(private readonly createLimiter: (windowSeconds: number) => RateLimiterAbstract) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const windowSeconds = Math.max(1, Math.round(ttl / 1000));
    let limiter = this.limiters.get(windowSeconds);
    if (!limiter) {
      limiter = this.createLimiter(windowSeconds);
      this.limiters.set(windowSeconds, limiter);
    }
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(key, 1);
    } catch (rejection) {
      // rate-limiter-flexible rejects with the RateLimiterRes once points run out, or with an Error
      // when its store (Redis) cannot be reached: the shared limit cannot be applied, so 503.
      if (rejection instanceof Error) throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: rejection });
      res = rejection as RateLimiterRes;
    }
    const secondsLeft = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    const isBlocked = res.consumedPoints > limit;
    return {
      totalHits: res.consumedPoints,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? secondsLeft : 0,
    };
  }
}
