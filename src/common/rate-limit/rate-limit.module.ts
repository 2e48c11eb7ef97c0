import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { AppConfig } from '../../config/app-config.js';
import { FlexibleThrottlerStorage } from './flexible-throttler.storage.js';
import { RateLimitGuard } from './rate-limit.guard.js';

/** Named limits; a handler opts in with @UseGuards(RateLimitGuard). */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const rateLimit = config.get('rateLimit', { infer: true });
        return {
          throttlers: [{ name: 'login', ttl: 60_000, limit: rateLimit.login }],
          skipIf: () => !rateLimit.enabled,
          // Only Retry-After on refusal (set by the filter), as the contract says; no per-name headers.
          setHeaders: false,
          storage: new FlexibleThrottlerStorage(
            (duration) => new RateLimiterMemory({ points: Number.MAX_SAFE_INTEGER, duration }),
          ),
        };
      },
    }),
  ],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
