import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  metricsConfig,
  officialConfig,
  redisConfig,
  wechatConfig,
  type OfficialSlice,
  type WechatSlice,
} from '../config/config.slices.js';
import { AccessTokenProvider } from './access-token/access-token.provider.js';
import { StableTokenApi } from './access-token/stable-token-api.port.js';
import { LiveOfficialAccountClient } from './live/live-official-account-client.js';
import { LiveStableTokenApi } from './live/live-stable-token-api.js';
import { LiveWechatClient } from './live/live-wechat-client.js';
import { WechatHttp } from './live/wechat-http.js';
import { SandboxOfficialAccountClient } from './sandbox/sandbox-official-account-client.js';
import { SandboxStableTokenApi } from './sandbox/sandbox-stable-token-api.js';
import { SandboxWechatClient } from './sandbox/sandbox-wechat-client.js';
import { WECHAT_OFFICIAL_CLIENT, type OfficialAccountClient } from './official-account-client.port.js';
import { WECHAT_CLIENT } from './wechat-client.port.js';
import { WechatModule } from './wechat.module.js';

/** The configuration AppModule provides, as far as WechatModule and its imports read it (no REDIS_URL). */
function platform(wechat: WechatSlice, official: OfficialSlice): DynamicModule {
  @Global()
  @Module({})
  class Platform {}
  const providers = [
    { provide: wechatConfig.KEY, useValue: wechat },
    { provide: officialConfig.KEY, useValue: official },
    { provide: redisConfig.KEY, useValue: {} },
    { provide: metricsConfig.KEY, useValue: {} },
  ];
  return { module: Platform, providers, exports: providers };
}

describe('WechatModule', () => {
  let app: TestingModule;

  const officialAccount: OfficialSlice = {
    enabled: true,
    appId: 'wx2c2769f8efd9abc2',
    appSecret: 'oa-secret',
    token: 'spamtest',
    encodingAesKey: null,
    welcomeText: null,
    publicBaseUrl: 'https://api.example.com',
    redirectAllowlist: [],
  };

  async function start(
    mode: WechatSlice['mode'],
    official: OfficialSlice = officialAccount,
  ): Promise<TestingModule> {
    const wechat = {
      mode,
      appId: 'wx0123456789abcdef',
      appSecret: 'secret',
      apiBaseUrl: 'http://127.0.0.1:9',
      timeoutMs: 1000,
    };
    app = await Test.createTestingModule({
      imports: [platform(wechat, official), DiscoveryModule, WechatModule],
    }).compile();
    return app;
  }

  const transports = () =>
    app
      .get(DiscoveryService)
      .getProviders()
      .filter((wrapper) => wrapper.instance instanceof WechatHttp);

  afterEach(async () => {
    await app?.close();
  });

  it('in the sandbox, binds the in-process adapters and builds no HTTP transport', async () => {
    await start('sandbox');
    expect(app.get(WECHAT_CLIENT)).toBeInstanceOf(SandboxWechatClient);
    expect(app.get(StableTokenApi)).toBeInstanceOf(SandboxStableTokenApi);
    expect(transports()).toEqual([]);
    // The token path runs in process: the same token for the same app, without a network.
    const tokens = app.get(AccessTokenProvider);
    const token = await tokens.getToken(Date.now() + 1000);
    expect(token).toMatch(/^sbx_at_[0-9a-f]{32}$/);
    expect(await tokens.getToken(Date.now() + 1000)).toBe(token);
  });

  it('in live mode, binds the HTTP adapters of both apps over one shared transport', async () => {
    await start('live');
    expect(app.get(WECHAT_CLIENT)).toBeInstanceOf(LiveWechatClient);
    expect(app.get(StableTokenApi)).toBeInstanceOf(LiveStableTokenApi);
    expect(app.get(WECHAT_OFFICIAL_CLIENT)).toBeInstanceOf(LiveOfficialAccountClient);
    expect(transports()).toHaveLength(1);
  });

  it('in the sandbox, plays the official account too, its ticket apart from the access tokens', async () => {
    await start('sandbox');
    const official = app.get<OfficialAccountClient>(WECHAT_OFFICIAL_CLIENT);
    expect(official).toBeInstanceOf(SandboxOfficialAccountClient);
    expect(official.appId).toBe(officialAccount.appId);
    const ticket = await official.getJsapiTicket();
    expect(ticket).toMatch(/^sbx_ticket_/);
    expect(await official.getJsapiTicket()).toBe(ticket);
    expect(await app.get(AccessTokenProvider).getToken(Date.now() + 1000)).not.toBe(ticket);
  });

  it('binds no official-account client without an official account', async () => {
    await start('live', { ...officialAccount, enabled: false, appId: '' });
    expect(app.get(WECHAT_OFFICIAL_CLIENT)).toBeNull();
    expect(app.get(WECHAT_CLIENT)).toBeInstanceOf(LiveWechatClient);
  });
});
