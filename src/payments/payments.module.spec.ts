import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { metricsConfig, wechatPayConfig } from '../config/config.slices.js';
import { loadConfig } from '../config/load-config.js';
import { FakeWechatPay } from '../../test/support/fake-wechat-pay.js';
import { LiveWechatPayClient } from './live/live-wechat-pay-client.js';
import { OffWechatPayClient } from './off/off-wechat-pay.js';
import { PaymentsModule } from './payments.module.js';
import { SandboxWechatPay } from './sandbox/sandbox-wechat-pay.js';
import { WECHAT_PAY_CLIENT, WECHAT_PAY_NOTIFICATIONS, WECHAT_PAY_SANDBOX } from './wechat-pay-client.port.js';
import { WechatPayNotificationVerifier } from './wechat-pay-notifications.js';

function platform(env: Record<string, string>): DynamicModule {
  @Global()
  @Module({})
  class Platform {}
  const providers = [
    {
      provide: wechatPayConfig.KEY,
      useValue: loadConfig({ NODE_ENV: 'test', WECHAT_MODE: 'sandbox', ...env }).wechatPay,
    },
    { provide: metricsConfig.KEY, useValue: {} },
  ];
  return { module: Platform, providers, exports: providers };
}

describe('PaymentsModule', () => {
  let app: TestingModule | undefined;
  let fake: FakeWechatPay | undefined;

  async function start(env: Record<string, string>): Promise<TestingModule> {
    app = await Test.createTestingModule({ imports: [platform(env), PaymentsModule] }).compile();
    await app.init();
    return app;
  }

  afterEach(async () => {
    await app?.close();
    await fake?.close();
    app = undefined;
    fake = undefined;
  });

  it('binds the sandbox by default outside production, its controls included', async () => {
    await start({});
    expect(app!.get(WECHAT_PAY_CLIENT)).toBeInstanceOf(SandboxWechatPay);
    expect(app!.get(WECHAT_PAY_SANDBOX)).toBe(app!.get(WECHAT_PAY_CLIENT));
    expect(app!.get(WECHAT_PAY_NOTIFICATIONS)).toBeInstanceOf(WechatPayNotificationVerifier);
  });

  it('binds the off adapter, and no sandbox', async () => {
    await start({ WECHAT_PAY_MODE: 'off' });
    expect(app!.get(WECHAT_PAY_CLIENT)).toBeInstanceOf(OffWechatPayClient);
    expect(app!.get(WECHAT_PAY_SANDBOX)).toBeNull();
  });

  it('binds the live adapter; with the public key it downloads nothing at start, without it the certificates', async () => {
    fake = await FakeWechatPay.start();
    await start(fake.serviceEnv({ keys: 'public_key' }));
    expect(app!.get(WECHAT_PAY_CLIENT)).toBeInstanceOf(LiveWechatPayClient);
    expect(app!.get(WECHAT_PAY_SANDBOX)).toBeNull();
    await app!.close();
    expect(fake.calls).toEqual([]);

    await start(fake.serviceEnv({ keys: 'certificates' }));
    expect(await fake.waitForCalls('certificates')).toHaveLength(1);
  });
});
