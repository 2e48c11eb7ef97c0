import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { rateLimitConfig } from '../config/config.slices.js';
import { RateLimitStore } from './rate-limit-store.port.js';

export type RateLimitName = 'login' | 'wechat_user';

export interface RateLimitVerdict {
  allowed: boolean;
  /** Whole seconds until the window resets (at least 1). */
  retryAfter: number;
}

const WINDOW_SECONDS = 60;

/** Fixed one-minute windows where every call counts, valid or not. */
@Injectable()
export class RateLimiterService {
  readonly enabled: boolean;
  private readonly limits: Record<RateLimitName, number>;

  constructor(
    @Inject(rateLimitConfig.KEY) config: ConfigType<typeof rateLimitConfig>,
    private readonly store: RateLimitStore,
  ) {
    this.enabled = config.enabled;
    this.limits = { login: config.login, wechat_user: config.wechatUser };
  }

  async hit(name: RateLimitName, key: string): Promise<RateLimitVerdict> {
    let count: number;
    let msUntilReset: number;
    try {
      ({ count, msUntilReset } = await this.store.hit(name, key, WINDOW_SECONDS));
    } catch (error) {
      // The shared limit cannot be applied: refused with 503 rather than let through unlimited.
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
    return { allowed: count <= this.limits[name], retryAfter: Math.max(1, Math.ceil(msUntilReset / 1000)) };
  }
}
