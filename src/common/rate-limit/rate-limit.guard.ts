import { applyDecorators, Injectable, SetMetadata, UseGuards, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { MetricsService } from '../../metrics/metrics.service.js';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

export type RateLimitName = 'login' | 'wechat_user';
const RATE_LIMITS_KEY = 'rate-limit:names';

/** The handler counts against these named limits (rate-limit.module.ts defines them). */
export const RateLimit = (...names: RateLimitName[]) =>
  applyDecorators(SetMetadata(RATE_LIMITS_KEY, names), UseGuards(RateLimitGuard));

/**
 * Throttler with the contract's rules: the client IP is Fastify's `request.ip` (X-Forwarded-For
 * only through TRUST_PROXY), one counter per key shared by every route naming the same limit
 * (login and refresh share `login`), only the limits a route names apply, and 429 / 42900 goes
 * through the envelope with Retry-After.
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

  protected override handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const names = this.reflector.get<RateLimitName[] | undefined>(RATE_LIMITS_KEY, request.context.getHandler());
    if (!names?.includes(request.throttler.name as RateLimitName)) return Promise.resolve(true);
    return super.handleRequest(request);
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
