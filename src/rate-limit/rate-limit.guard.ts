import {
  applyDecorators,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AuthUser } from '../common/auth/decorators.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { RateLimiterService, type RateLimitName } from './rate-limiter.service.js';

const RATE_LIMITS_KEY = 'rate-limit:names';

/** The handler counts against these named limits. */
export const RateLimit = (...names: RateLimitName[]) =>
  applyDecorators(SetMetadata(RATE_LIMITS_KEY, names), UseGuards(RateLimitGuard));

/**
 * Applies the limits a route names: `login` per client IP (Fastify's request.ip: X-Forwarded-For
 * only through TRUST_PROXY), shared by login and refresh; `wechat_user` per signed-in user.
 * Refusals are 429 / 42900 with Retry-After, through the envelope.
 *
 * Hand-written over rate-limiter-flexible rather than @nestjs/throttler: Nest 12 is ESM-only and
 * throttler 6 is CommonJS that require()s @nestjs/common, which Jest's module runtime cannot load
 * on Node 20 (the e2e suite could not boot the app).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiterService,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limiter.enabled) return true;
    const names =
      this.reflector.get<RateLimitName[] | undefined>(RATE_LIMITS_KEY, context.getHandler()) ?? [];
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    for (const name of names) {
      const key = name === 'wechat_user' ? (request.user?.userId ?? request.ip) : request.ip;
      const verdict = await this.limiter.hit(name, key);
      if (!verdict.allowed) {
        this.metrics.rateLimited.inc({ limit: name });
        throw new AppError(ErrorCode.RATE_LIMITED, undefined, { retryAfter: verdict.retryAfter });
      }
    }
    return true;
  }
}
