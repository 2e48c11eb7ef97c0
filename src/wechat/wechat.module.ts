import { Module } from '@nestjs/common';
import { wechatConfig, type WechatSlice } from '../config/config.slices.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisModule } from '../redis/redis.module.js';
import { ACCESS_TOKEN_STORE } from './access-token/access-token-store.port.js';
import { AccessTokenProvider } from './access-token/access-token.provider.js';
import { MemoryAccessTokenStore } from './access-token/memory-access-token-store.js';
import { RedisAccessTokenStore } from './access-token/redis-access-token-store.js';
import { StableTokenApi } from './access-token/stable-token-api.port.js';
import { NodeWechatCrypto } from './crypto/node-wechat-crypto.js';
import { LiveStableTokenApi } from './live/live-stable-token-api.js';
import { LiveWechatClient } from './live/live-wechat-client.js';
import { WechatHttp } from './live/wechat-http.js';
import { SandboxStableTokenApi } from './sandbox/sandbox-stable-token-api.js';
import { SandboxWechatClient } from './sandbox/sandbox-wechat-client.js';
import { WECHAT_CLIENT, type WechatClient } from './wechat-client.port.js';
import { WECHAT_CRYPTO, type WechatCrypto } from './wechat-crypto.port.js';

/**
 * The live mode's HTTP transport, and null in the sandbox, which thus opens no connection pool and
 * arms no circuit breaker. One instance for every live adapter: they share its breaker.
 */
const LIVE_HTTP = Symbol('LIVE_HTTP');

/**
 * WeChat behind its ports: WECHAT_CLIENT and StableTokenApi (live HTTP or the in-process sandbox,
 * by WECHAT_MODE), WECHAT_CRYPTO, and the mini-program's access token (AccessTokenProvider), kept in
 * Redis when REDIS_URL is set (shared by every instance), in process memory otherwise.
 */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [
    { provide: WECHAT_CRYPTO, useClass: NodeWechatCrypto },
    {
      provide: ACCESS_TOKEN_STORE,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) =>
        redis.client ? new RedisAccessTokenStore(redis) : new MemoryAccessTokenStore(),
    },
    {
      provide: LIVE_HTTP,
      inject: [wechatConfig.KEY, MetricsService],
      useFactory: (wechat: WechatSlice, metrics: MetricsService): WechatHttp | null =>
        wechat.mode === 'live' ? new WechatHttp(wechat, metrics) : null,
    },
    {
      provide: StableTokenApi,
      inject: [wechatConfig.KEY, LIVE_HTTP, MetricsService],
      useFactory: (wechat: WechatSlice, http: WechatHttp | null, metrics: MetricsService): StableTokenApi =>
        http ? new LiveStableTokenApi(http, wechat, metrics) : new SandboxStableTokenApi(wechat),
    },
    AccessTokenProvider,
    {
      provide: WECHAT_CLIENT,
      inject: [wechatConfig.KEY, LIVE_HTTP, AccessTokenProvider, WECHAT_CRYPTO],
      useFactory: (
        wechat: WechatSlice,
        http: WechatHttp | null,
        tokens: AccessTokenProvider,
        crypto: WechatCrypto,
      ): WechatClient =>
        http ? new LiveWechatClient(http, tokens, crypto, wechat) : new SandboxWechatClient(wechat),
    },
  ],
  exports: [WECHAT_CLIENT, WECHAT_CRYPTO, AccessTokenProvider],
})
export class WechatModule {}
