import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible';
import type { AppConfig } from '../../config/app-config.js';
import { RedisConnections } from '../../redis/redis-connections.js';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

export type RateLimitName = 'login' | 'wechat_user';

export interface RateLimitVerdict {
  allowed: boolean;
  /** Whole seconds until the window resets (at least 1). */
  retryAfter: number;
}

const WINDOW_SECONDS = 60;

/**
 * Fixed one-minute windows where every call counts, on rate-limiter-flexible: atomic counters in
 * Redis shared by every instance when REDIS_URL is set, in process memory otherwise.
 */
@Injectable()
export class RateLimiterService {
  readonly enabled: boolean;
  private readonly limits: Record<RateLimitName, number>;
  private readonly limiters: Record<RateLimitName, RateLimiterAbstract>;

  constructor(config: ConfigService<AppConfig, true>, redis: RedisConnections) {
    const rateLimit = config.get('rateLimit', { infer: true });
    this.enabled = rateLimit.enabled;
    this.limits = { login: rateLimit.login, wechat_user: rateLimit.wechatUser };
    // No point limit in the store: every call is counted, and the verdict compares hits to the limit.
    const create = (name: RateLimitName): RateLimiterAbstract => {
      const options = {
        points: Number.MAX_SAFE_INTEGER,
        duration: WINDOW_SECONDS,
        keyPrefix: `wxb:rl:${name}`,
      };
      return redis.client
        ? new RateLimiterRedis({ ...options, storeClient: redis.client })
        : new RateLimiterMemory(options);
    };
    this.limiters = { login: create('login'), wechat_user: create('wechat_user') };
  }

  async hit(name: RateLimitName, key: string): Promise<RateLimitVerdict> {
    let res: RateLimiterRes;
    try {
      res = await this.limiters[name].consume(key, 1);
    } catch (rejection) {
      // Rejects with an Error when the store (Redis) is unreachable: the shared limit cannot be
      // applied, so the request is refused with 503 rather than let through unlimited.
      if (rejection instanceof Error) {
        throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: rejection });
      }
      res = rejection as RateLimiterRes;
    }
    return {
      allowed: res.consumedPoints <= this.limits[name],
      retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    };
  }
}
