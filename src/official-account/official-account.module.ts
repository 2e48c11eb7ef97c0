import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { officialConfig, type OfficialSlice } from '../config/config.slices.js';
import { DatabaseModule } from '../database/database.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisModule } from '../redis/redis.module.js';
import { UsersModule } from '../users/users.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { AdminAutoRepliesController } from './auto-replies/admin-auto-replies.controller.js';
import { AutoRepliesService } from './auto-replies/auto-replies.service.js';
import { AutoReplyEntity } from './auto-replies/auto-reply.entity.js';
import { AutoReplyRepository, TypeormAutoReplyRepository } from './auto-replies/auto-reply.repository.js';
import { CallbackMetrics } from './callback/callback-metrics.js';
import {
  CALLBACK_CLOCK,
  CALLBACK_NONCES,
  CallbackVerifier,
  NONCE_WINDOW_SECONDS,
} from './callback/callback-verifier.js';
import { OfficialMessageHandlers } from './callback/message-handlers.js';
import { OfficialCallbackController } from './callback/official-callback.controller.js';
import {
  CALLBACK_MESSAGES,
  CallbackTiming,
  MESSAGE_WINDOW_SECONDS,
  OfficialCallbackService,
} from './callback/official-callback.service.js';
import { MemorySeenKeys, RedisSeenKeys, type SeenKeys } from './callback/seen-keys.js';
import { FollowerErasure } from './followers/follower-erasure.js';
import { FollowerEntity } from './followers/follower.entity.js';
import { FollowerRepository, TypeormFollowerRepository } from './followers/follower.repository.js';
import { FollowersService } from './followers/followers.service.js';
import { MenuClickHandler, TextMessageHandler } from './handlers/auto-reply.handlers.js';
import { SubscribeHandler } from './handlers/subscribe.handler.js';
import { UnsubscribeHandler } from './handlers/unsubscribe.handler.js';
import { OFFICIAL_ACCOUNT_SETTINGS, type OfficialAccountSettings } from './official-account-settings.js';

/** Keys seen within `windowSeconds`: in Redis (every instance) with REDIS_URL, in this process without. */
const seenKeys = (prefix: string, windowSeconds: number) => ({
  inject: [RedisConnections],
  useFactory: (redis: RedisConnections): SeenKeys =>
    redis.client ? new RedisSeenKeys(redis.client, prefix, windowSeconds) : new MemorySeenKeys(windowSeconds),
});

/**
 * The official account's server side: the callback (checks, de-duplication, the handler registry
 * and the built-in handlers), its followers and keyword auto-replies (admin CRUD). Every route is
 * an @OfficialAccountRoute(): 404 / 40400 without an official account. Other features read
 * FollowersService; a feature adds a message handler by marking a provider of its own
 * @HandlesOfficialMessages() (callback/message-handlers.ts).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([FollowerEntity, AutoReplyEntity]),
    DiscoveryModule,
    DatabaseModule,
    AuditModule,
    MetricsModule,
    RedisModule,
    WechatModule,
    UsersModule,
  ],
  controllers: [OfficialCallbackController, AdminAutoRepliesController],
  providers: [
    {
      provide: OFFICIAL_ACCOUNT_SETTINGS,
      inject: [officialConfig.KEY],
      useFactory: (official: OfficialSlice): OfficialAccountSettings => ({
        enabled: official.enabled,
        appId: official.appId,
        token: official.token,
        encodingAesKey: official.encodingAesKey,
        welcomeText: official.welcomeText,
      }),
    },
    { provide: CALLBACK_CLOCK, useValue: () => Date.now() },
    { provide: CALLBACK_NONCES, ...seenKeys('wxb:oa:callback:nonce:', NONCE_WINDOW_SECONDS) },
    { provide: CALLBACK_MESSAGES, ...seenKeys('wxb:oa:callback:msg:', MESSAGE_WINDOW_SECONDS) },
    CallbackVerifier,
    CallbackTiming,
    CallbackMetrics,
    OfficialMessageHandlers,
    OfficialCallbackService,
    { provide: FollowerRepository, useClass: TypeormFollowerRepository },
    FollowersService,
    FollowerErasure,
    { provide: AutoReplyRepository, useClass: TypeormAutoReplyRepository },
    AutoRepliesService,
    SubscribeHandler,
    UnsubscribeHandler,
    TextMessageHandler,
    MenuClickHandler,
  ],
  exports: [FollowersService, OfficialMessageHandlers],
})
export class OfficialAccountModule {}
