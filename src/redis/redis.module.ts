import { Module } from '@nestjs/common';
import { INVALIDATION_BUS } from '../common/invalidation/invalidation-bus.port.js';
import { LocalInvalidationBus } from '../common/invalidation/local-invalidation-bus.js';
import { RedisConnections } from './redis-connections.js';
import { RedisInvalidationBus } from './redis-invalidation-bus.js';

/** Shared state: the connections, and the invalidation bus (pub/sub with Redis, in-process without). */
@Module({
  providers: [
    RedisConnections,
    {
      provide: INVALIDATION_BUS,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) =>
        redis.client ? new RedisInvalidationBus(redis) : new LocalInvalidationBus(),
    },
  ],
  exports: [RedisConnections, INVALIDATION_BUS],
})
export class RedisModule {}
