import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface.js';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

/**
 * Throttler with the contract's rules: the client IP is Fastify's `request.ip` (X-Forwarded-For
 * only through TRUST_PROXY), one counter per IP shared by every route that uses a throttler name
 * (login and refresh share `login`), and 429 / 42900 through the envelope with Retry-After.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
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
    throw new AppError(ErrorCode.RATE_LIMITED, undefined, { retryAfter: Math.max(1, detail.timeToBlockExpire) });
  }
}
