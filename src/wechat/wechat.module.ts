import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { ACCESS_TOKEN_STORE } from './access-token/access-token-store.port.js';
import { AccessTokenProvider } from './access-token/access-token.provider.js';
import { MemoryAccessTokenStore } from './access-token/memory-access-token-store.js';
import { RedisAccessTokenStore } from './access-token/redis-access-token-store.js';
import { NodeWechatCrypto } from './crypto/node-wechat-crypto.js';
import { LiveWechatClient } from './live/live-wechat-client.js';
import { WechatHttp } from './live/wechat-http.js';
import { SandboxWechatClient } from './sandbox/sandbox-wechat-client.js';
import { WECHAT_CLIENT } from './wechat-client.port.js';
import { WECHAT_CRYPTO } from './wechat-crypto.port.js';

/**
 * WeChat behind two ports: WECHAT_CLIENT (live HTTP or the in-process sandbox, by WECHAT_MODE) and
 * WECHAT_CRYPTO. The access token is kept in Redis when REDIS_URL is set (shared by every
 * instance), in process memory otherwise.
 */
@Module({
  providers: [
    { provide: WECHAT_CRYPTO, useClass: NodeWechatCrypto },
    {
      provide: ACCESS_TOKEN_STORE,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) =>
        redis.client ? new RedisAccessTokenStore(redis) : new MemoryAccessTokenStore(),
    },
    WechatHttp,
    AccessTokenProvider,
    LiveWechatClient,
    SandboxWechatClient,
    {
      provide: WECHAT_CLIENT,
      inject: [ConfigService, LiveWechatClient, SandboxWechatClient],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        live: LiveWechatClient,
        sandbox: SandboxWechatClient,
      ) => (config.get('wechat', { infer: true }).mode === 'live' ? live : sandbox),
    },
  ],
  exports: [WECHAT_CLIENT, WECHAT_CRYPTO, AccessTokenProvider],
})
export class WechatModule {}
