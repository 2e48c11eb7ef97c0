import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { MetricsService } from '../../metrics/metrics.service.js';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

/**
 * Throttler with the contract's rules: the client IP is Fastify's `request.ip` (X-Forwarded-For
 * only through TRUST_PROXY), one counter per IP shared by every route that uses a throttler name
 * (login and refresh share `login`), and 429 / 42900 through the envelope with Retry-After.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: MetricsService,
  ) {
    super(options, storage, reflector);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(String(req.ip));
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `rl:${name}:${tracker}`;
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    this.metrics.rateLimited.inc({ limit: detail.key.split(':')[1] ?? 'unknown' });
    throw new AppError(ErrorCode.RATE_LIMITED, undefined, { retryAfter: Math.max(1, detail.timeToBlockExpire) });
  }
}
