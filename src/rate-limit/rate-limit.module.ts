import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisModule } from '../redis/redis.module.js';
import { FlexibleRateLimitStore } from './flexible-rate-limit.store.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitStore } from './rate-limit-store.port.js';
import { RateLimiterService } from './rate-limiter.service.js';

/** Limits per client IP or user; counted in Redis when REDIS_URL is set, in memory otherwise. */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [
    RateLimiterService,
    RateLimitGuard,
    {
      provide: RateLimitStore,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) => new FlexibleRateLimitStore(redis.client),
    },
  ],
  // @RateLimit() applies the guard in the controller's own module, which must resolve its
  // dependencies: the limiter and the metrics come with this module.
  exports: [RateLimiterService, RateLimitGuard, MetricsModule],
})
export class RateLimitModule {}
