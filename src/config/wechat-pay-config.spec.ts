import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config.js';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs1 = merchant.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const platformPublic = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const APIV3_KEY = 'Q7m2Vx9LpR4tZc8NwB1sKd6HfJ3gYa0E';

const live = {
  NODE_ENV: 'test',
  // The mini-program side stays simulated: these tests are about the pay variables alone.
  WECHAT_MODE: 'sandbox',
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_PAY_MCHID: '1900000109',
  WECHAT_PAY_MERCHANT_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHAT_PAY_PRIVATE_KEY: pkcs8,
  WECHAT_PAY_APIV3_KEY: APIV3_KEY,
  WECHAT_PAY_NOTIFY_URL: 'https://shop.example.com/api/v1/pay/notify',
  WECHAT_PAY_REFUND_NOTIFY_URL: 'https://shop.example.com/api/v1/pay/refund-notify',
};

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/app',
  JWT_SECRET: 'Zk3v9Q2xLr7TpW1mNc8bYh4sJd6gFa0e',
  DATA_ENCRYPTION_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64'),
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_APP_SECRET: 'secret',
};

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'wechat-pay-config-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The failure names the variable, first, and never quotes what it was set to. */
function expectRefused(env: Record<string, string | undefined>, variable: string): ConfigError {
  const error = failure(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} \\S`));
  expect(error.message.split('\n')).toHaveLength(1);
  // Short values (a mode, a prefix) may well be words of the reason itself.
  const value = env[variable];
  if (value && value.length >= 16) expect(error.message).not.toContain(value);
  return error;
}

describe('WeChat Pay configuration', () => {
  it('defaults to the sandbox outside production, says so, and to off in production', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.wechatPay.mode).toBe('sandbox');
    expect(config.notices.join('\n')).toMatch(/WECHAT_PAY_MODE=sandbox/);
    expect(config.orders.paymentTtlSeconds).toBe(900);
    expect(config.wechatPay.apiBaseUrl).toBe('https://api.mch.weixin.qq.com');

    expect(loadConfig(production).wechatPay.mode).toBe('off');
  });

  it('is live once WECHAT_PAY_MCHID is set, with the keys parsed once', () => {
    const config = loadConfig({ ...live, WECHAT_PAY_API_BASE_URL: 'http://127.0.0.1:9999/' });
    expect(config.wechatPay).toMatchObject({
      mode: 'live',
      mchid: '1900000109',
      merchantSerial: live.WECHAT_PAY_MERCHANT_SERIAL,
      appId: 'wx1234567890abcdef',
      apiBaseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 5000,
      notifyUrl: live.WECHAT_PAY_NOTIFY_URL,
      refundNotifyUrl: live.WECHAT_PAY_REFUND_NOTIFY_URL,
    });
    expect(config.wechatPay.privateKey?.type).toBe('private');
    expect(config.wechatPay.apiV3Key).toEqual(Buffer.from(APIV3_KEY));
    expect(config.wechatPay.publicKey).toBeUndefined();
    expect(config.notices.join('\n')).not.toMatch(/WECHAT_PAY/);
  });

  it('refuses the sandbox in production', () => {
    expectRefused({ ...production, WECHAT_PAY_MODE: 'sandbox' }, 'WECHAT_PAY_MODE');
  });

  it.each([
    'WECHAT_PAY_MCHID',
    'WECHAT_PAY_MERCHANT_SERIAL',
    'WECHAT_PAY_PRIVATE_KEY',
    'WECHAT_PAY_APIV3_KEY',
    'WECHAT_PAY_NOTIFY_URL',
    'WECHAT_PAY_REFUND_NOTIFY_URL',
    'WECHAT_APP_ID',
  ])('live mode requires %s', (variable) => {
    const env: Record<string, string | undefined> = {
      ...live,
      WECHAT_PAY_MODE: 'live',
      [variable]: undefined,
    };
    const error = expectRefused(env, variable);
    expect(error.message).toMatch(/required when WECHAT_PAY_MODE is live/);
  });

  it('reads the private key as PKCS#8 or PKCS#1, as PEM text with \\n escapes, or from a file', () => {
    const file = join(scratch, 'apiclient_key.pem');
    writeFileSync(file, pkcs1);
    for (const value of [pkcs8, pkcs1, pkcs8.replace(/\n/g, '\\n'), file]) {
      const key = loadConfig({ ...live, WECHAT_PAY_PRIVATE_KEY: value }).wechatPay.privateKey;
      expect(key?.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
  });

  it.each([
    ['a PEM that does not parse', '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'],
    ['a public key', platformPublic],
    ['neither PEM nor a file', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC'],
    [
      'an RSA key under 2048 bits',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ],
    [
      'an EC key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ],
    [
      'an encrypted PKCS#8 key',
      merchant.privateKey.export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'secret',
      }),
    ],
  ])('refuses as WECHAT_PAY_PRIVATE_KEY %s, in any mode', (_what, value) => {
    for (const mode of ['live', 'sandbox', 'off']) {
      expectRefused(
        { ...live, WECHAT_PAY_MODE: mode, WECHAT_PAY_PRIVATE_KEY: value.toString() },
        'WECHAT_PAY_PRIVATE_KEY',
      );
    }
  });

  it('takes the APIv3 key as exactly 32 UTF-8 bytes, as written', () => {
    // 16 two-byte characters are 32 bytes.
    const accented = 'é'.repeat(16);
    expect(loadConfig({ ...live, WECHAT_PAY_APIV3_KEY: accented }).wechatPay.apiV3Key).toHaveLength(32);
    for (const value of [APIV3_KEY.slice(1), `${APIV3_KEY}x`, 'é'.repeat(32)]) {
      const error = expectRefused({ ...live, WECHAT_PAY_APIV3_KEY: value }, 'WECHAT_PAY_APIV3_KEY');
      expect(error.message).toMatch(/32 bytes/);
    }
  });

  it('takes the WeChat Pay public key together with its id, both or neither', () => {
    const id = 'PUB_KEY_ID_0114232134912410000000000000';
    const config = loadConfig({
      ...live,
      WECHAT_PAY_PUBLIC_KEY: platformPublic,
      WECHAT_PAY_PUBLIC_KEY_ID: id,
    });
    expect(config.wechatPay.publicKey?.id).toBe(id);
    expect(config.wechatPay.publicKey?.key.type).toBe('public');

    expectRefused({ ...live, WECHAT_PAY_PUBLIC_KEY: platformPublic }, 'WECHAT_PAY_PUBLIC_KEY_ID');
    expectRefused({ ...live, WECHAT_PAY_PUBLIC_KEY_ID: id }, 'WECHAT_PAY_PUBLIC_KEY');
    expectRefused(
      { ...live, WECHAT_PAY_PUBLIC_KEY: pkcs8, WECHAT_PAY_PUBLIC_KEY_ID: id },
      'WECHAT_PAY_PUBLIC_KEY',
    );
    expectRefused(
      {
        ...live,
        WECHAT_PAY_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        WECHAT_PAY_PUBLIC_KEY_ID: id,
      },
      'WECHAT_PAY_PUBLIC_KEY',
    );
    for (const bad of [
      'PUB_KEY_ID_',
      'PUB_KEY_ID_abc-1',
      'KEY_0114232134912410000000000000',
      `PUB_KEY_ID_${'1'.repeat(65)}`,
    ]) {
      expectRefused(
        { ...live, WECHAT_PAY_PUBLIC_KEY: platformPublic, WECHAT_PAY_PUBLIC_KEY_ID: bad },
        'WECHAT_PAY_PUBLIC_KEY_ID',
      );
    }
  });

  it.each([
    ['WECHAT_PAY_MCHID', '19000001a9'],
    ['WECHAT_PAY_MCHID', '1'.repeat(33)],
    ['WECHAT_PAY_MERCHANT_SERIAL', 'XYZ'],
    ['WECHAT_PAY_MERCHANT_SERIAL', 'A'.repeat(65)],
    ['WECHAT_PAY_MODE', 'on'],
    ['WECHAT_PAY_NOTIFY_URL', '/api/v1/pay/notify'],
    ['WECHAT_PAY_NOTIFY_URL', 'ftp://shop.example.com/notify'],
    ['WECHAT_PAY_NOTIFY_URL', 'https://shop.example.com/notify?from=wechat'],
    ['WECHAT_PAY_NOTIFY_URL', 'https://shop.example.com/notify?'],
    ['WECHAT_PAY_REFUND_NOTIFY_URL', `https://shop.example.com/${'a'.repeat(240)}`],
    ['WECHAT_PAY_API_BASE_URL', 'api.mch.weixin.qq.com'],
    ['ORDER_PAYMENT_TTL', '4'],
    ['ORDER_PAYMENT_TTL', '86401'],
    ['ORDER_PAYMENT_TTL', '60.5'],
  ])('refuses %s=%j', (variable, value) => {
    expectRefused({ ...live, [variable]: value }, variable);
  });

  it('keeps a notify URL of exactly 255 characters and the payment TTL within its bounds', () => {
    const url = `https://shop.example.com/${'a'.repeat(255 - 'https://shop.example.com/'.length)}`;
    const config = loadConfig({ ...live, WECHAT_PAY_NOTIFY_URL: url, ORDER_PAYMENT_TTL: '5' });
    expect(config.wechatPay.notifyUrl).toBe(url);
    expect(config.orders.paymentTtlSeconds).toBe(5);
    expect(loadConfig({ ORDER_PAYMENT_TTL: '86400' }).orders.paymentTtlSeconds).toBe(86400);
  });
});
