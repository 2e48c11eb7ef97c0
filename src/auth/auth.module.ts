import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module.js';
import { jwtConfig } from '../config/config.slices.js';
import { UsersModule } from '../users/users.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AccessGuard } from './guards/access.guard.js';
import { JwtStrategy } from './guards/jwt.strategy.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisModule } from '../redis/redis.module.js';
import { SessionKeysModule } from '../session-keys/session-keys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth/oauth.service.js';
import { MemoryOneTimeStore, OneTimeStore, RedisOneTimeStore } from './oauth/one-time-store.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { jwtModuleOptions } from './tokens/jwt-options.js';

@Module({
  imports: [
    PassportModule,
    DiscoveryModule,
    JwtModule.registerAsync({
      inject: [jwtConfig.KEY],
      useFactory: (jwt: ConfigType<typeof jwtConfig>) => jwtModuleOptions(jwt),
    }),
    UsersModule,
    SessionKeysModule,
    MetricsModule,
    RateLimitModule,
    SessionsModule,
    WechatModule,
    AuditModule,
    RedisModule,
  ],
  controllers: [AuthController, OAuthController],
  providers: [
    AuthService,
    AccessTokenService,
    JwtStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
    OAuthService,
    // The web sign-in's states and tickets: shared by every instance with REDIS_URL.
    {
      provide: OneTimeStore,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections): OneTimeStore =>
        redis.client ? new RedisOneTimeStore(redis) : new MemoryOneTimeStore(),
    },
  ],
})
export class AuthModule {}
