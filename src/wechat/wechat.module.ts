import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  officialConfig,
  wechatConfig,
  type OfficialSlice,
  type WechatSlice,
} from '../config/config.slices.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisModule } from '../redis/redis.module.js';
import { ACCESS_TOKEN_STORE, type AccessTokenStore } from './access-token/access-token-store.port.js';
import { AccessTokenProvider } from './access-token/access-token.provider.js';
import { MemoryAccessTokenStore } from './access-token/memory-access-token-store.js';
import { RedisAccessTokenStore } from './access-token/redis-access-token-store.js';
import { StableTokenApi } from './access-token/stable-token-api.port.js';
import { NodeWechatCrypto } from './crypto/node-wechat-crypto.js';
import { LiveJsapiTicketApi } from './live/live-jsapi-ticket-api.js';
import { LiveOfficialAccountClient } from './live/live-official-account-client.js';
import { LiveStableTokenApi } from './live/live-stable-token-api.js';
import { LiveWechatClient } from './live/live-wechat-client.js';
import { WechatHttp } from './live/wechat-http.js';
import { SandboxJsapiTicketApi } from './sandbox/sandbox-jsapi-ticket-api.js';
import { SandboxOfficialAccountClient } from './sandbox/sandbox-official-account-client.js';
import { SandboxStableTokenApi } from './sandbox/sandbox-stable-token-api.js';
import { SandboxWechatClient } from './sandbox/sandbox-wechat-client.js';
import { WECHAT_CLIENT, type WechatClient } from './wechat-client.port.js';
import { WECHAT_CRYPTO, type WechatCrypto } from './wechat-crypto.port.js';
import { OfficialAccountGate } from './official-account-gate.js';
import { WECHAT_OFFICIAL_CLIENT, type OfficialAccountClient } from './official-account-client.port.js';

/**
 * The live mode's HTTP transport, and null in the sandbox, which thus opens no connection pool and
 * arms no circuit breaker. One instance for every live adapter: they share its breaker.
 */
const LIVE_HTTP = Symbol('LIVE_HTTP');

/** The official account's access token and its jsapi_ticket, each with a store of its own. */
const OFFICIAL_ACCESS_TOKEN = Symbol('OFFICIAL_ACCESS_TOKEN');
const OFFICIAL_JSAPI_TICKET = Symbol('OFFICIAL_JSAPI_TICKET');

/**
 * Where each app keeps its credential (Redis keys, lock and stored-notice channel hang off these).
 * The mini-program's is the v1 key, unchanged, so a rolling upgrade keeps sharing its token.
 */
export const CREDENTIAL_NAMESPACES = {
  miniProgramToken: 'wxb:wechat:access_token',
  officialToken: 'wxb:wechat:oa:access_token',
  officialTicket: 'wxb:wechat:oa:jsapi_ticket',
} as const;

/** One credential's store: in Redis under `namespace` (every instance shares it), else in process. */
function credentialStore(redis: RedisConnections, namespace: string): AccessTokenStore {
  return redis.client ? new RedisAccessTokenStore(redis, namespace) : new MemoryAccessTokenStore();
}

/**
 * WeChat behind its ports, for both apps of the service, by WECHAT_MODE (live HTTP or the in-process
 * sandbox): WECHAT_CLIENT (the mini-program), WECHAT_OFFICIAL_CLIENT (the official account; null
 * without one), WECHAT_CRYPTO. Each app has its own StableTokenApi, its own store and its own
 * AccessTokenProvider (one class, instances apart); the official account's jsapi_ticket has a
 * provider of its own too, fed by getticket. Stores are in Redis when REDIS_URL is set (shared by
 * every instance), in process memory otherwise. Also the global guard that answers the official
 * account's routes 404 when there is none (official-account-gate.ts).
 */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [
    { provide: WECHAT_CRYPTO, useClass: NodeWechatCrypto },
    { provide: APP_GUARD, useClass: OfficialAccountGate },
    {
      provide: ACCESS_TOKEN_STORE,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) => credentialStore(redis, CREDENTIAL_NAMESPACES.miniProgramToken),
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
    {
      provide: AccessTokenProvider,
      inject: [StableTokenApi, ACCESS_TOKEN_STORE, MetricsService, wechatConfig.KEY],
      useFactory: (
        api: StableTokenApi,
        store: AccessTokenStore,
        metrics: MetricsService,
        wechat: WechatSlice,
      ) => new AccessTokenProvider(api, store, metrics, { timeoutMs: wechat.timeoutMs, app: 'mini-program' }),
    },
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
    {
      provide: OFFICIAL_ACCESS_TOKEN,
      inject: [officialConfig.KEY, wechatConfig.KEY, LIVE_HTTP, RedisConnections, MetricsService],
      useFactory: (
        official: OfficialSlice,
        wechat: WechatSlice,
        http: WechatHttp | null,
        redis: RedisConnections,
        metrics: MetricsService,
      ): AccessTokenProvider | null => {
        if (!official.enabled) return null;
        const api = http
          ? new LiveStableTokenApi(http, official, metrics, 'official account')
          : new SandboxStableTokenApi(official);
        const store = credentialStore(redis, CREDENTIAL_NAMESPACES.officialToken);
        return new AccessTokenProvider(api, store, metrics, {
          timeoutMs: wechat.timeoutMs,
          app: 'official account',
        });
      },
    },
    {
      provide: OFFICIAL_JSAPI_TICKET,
      inject: [
        officialConfig.KEY,
        wechatConfig.KEY,
        LIVE_HTTP,
        OFFICIAL_ACCESS_TOKEN,
        RedisConnections,
        MetricsService,
      ],
      useFactory: (
        official: OfficialSlice,
        wechat: WechatSlice,
        http: WechatHttp | null,
        tokens: AccessTokenProvider | null,
        redis: RedisConnections,
        metrics: MetricsService,
      ): AccessTokenProvider | null => {
        if (!official.enabled || !tokens) return null;
        const api = http
          ? new LiveJsapiTicketApi(http, tokens, metrics)
          : new SandboxJsapiTicketApi(official, metrics);
        const store = credentialStore(redis, CREDENTIAL_NAMESPACES.officialTicket);
        return new AccessTokenProvider(api, store, metrics, {
          timeoutMs: wechat.timeoutMs,
          holds: 'jsapi_ticket',
          app: 'official account',
        });
      },
    },
    {
      provide: WECHAT_OFFICIAL_CLIENT,
      inject: [officialConfig.KEY, LIVE_HTTP, OFFICIAL_ACCESS_TOKEN, OFFICIAL_JSAPI_TICKET],
      useFactory: (
        official: OfficialSlice,
        http: WechatHttp | null,
        tokens: AccessTokenProvider | null,
        tickets: AccessTokenProvider | null,
      ): OfficialAccountClient | null => {
        if (!official.enabled || !tokens || !tickets) return null;
        return http
          ? new LiveOfficialAccountClient(http, tokens, tickets, official)
          : new SandboxOfficialAccountClient(official, tickets);
      },
    },
  ],
  exports: [WECHAT_CLIENT, WECHAT_OFFICIAL_CLIENT, WECHAT_CRYPTO, AccessTokenProvider],
})
export class WechatModule {}
