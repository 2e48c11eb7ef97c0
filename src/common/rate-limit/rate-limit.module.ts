import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { AppConfig } from '../../config/app-config.js';
import { RedisConnections } from '../../redis/redis-connections.js';
import { FlexibleThrottlerStorage } from './flexible-throttler.storage.js';
import { RateLimitGuard } from './rate-limit.guard.js';

/** Named limits; a handler opts in with @UseGuards(RateLimitGuard). */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, RedisConnections],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisConnections) => {
        const rateLimit = config.get('rateLimit', { infer: true });
        // Counters shared by every instance through Redis when there is one (atomic in Redis);
        // in this process otherwise. No point limit here: the guard compares hits to the limit.
        const points = Number.MAX_SAFE_INTEGER;
        const client = redis.client;
        return {
          throttlers: [
            // Per client IP: login and refresh together (CONTRACT.md).
            { name: 'login', ttl: 60_000, limit: rateLimit.login },
            // Per signed-in user: calls that spend WeChat quota (phone binding, decryption).
            {
              name: 'wechat_user',
              ttl: 60_000,
              limit: rateLimit.wechatUser,
              getTracker: (req: Record<string, unknown>) =>
                String((req.user as { userId?: string } | undefined)?.userId ?? req.ip),
            },
          ],
          skipIf: () => !rateLimit.enabled,
          // Only Retry-After on refusal (set by the filter), as the contract says; no per-name headers.
          setHeaders: false,
          storage: new FlexibleThrottlerStorage((duration) =>
            client
              ? new RateLimiterRedis({ storeClient: client, points, duration, keyPrefix: 'wxb:rl' })
              : new RateLimiterMemory({ points, duration }),
          ),
        };
      },
    }),
  ],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
