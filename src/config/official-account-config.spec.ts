import { ConfigError, loadConfig } from './load-config.js';
import { SANDBOX_OA_APP_ID } from './official-account-config.js';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const OA_SECRET = 'oa-app-secret-0123456789abcdef';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/app',
  JWT_SECRET: 'Zk3v9Q2xLr7TpW1mNc8bYh4sJd6gFa0e',
  DATA_ENCRYPTION_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64'),
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_APP_SECRET: 'secret',
};

const withOfficialAccount = {
  ...production,
  WECHAT_OA_APP_ID: 'wx2c2769f8efd9abc2',
  WECHAT_OA_APP_SECRET: OA_SECRET,
  WECHAT_OA_TOKEN: 'spamtest',
  PUBLIC_BASE_URL: 'https://api.example.com/shop',
};

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** One line naming the variable first, never quoting what it was set to. */
function expectRefused(env: Record<string, string | undefined>, variable: string): void {
  const error = failure(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} \\S`));
  expect(error.message.split('\n')).toHaveLength(1);
  const value = env[variable];
  if (value && value.length >= 8) expect(error.message).not.toContain(value);
}

describe('official-account configuration', () => {
  it('is off in live mode without WECHAT_OA_APP_ID, with an empty allow-list', () => {
    const { official } = loadConfig(production);
    expect(official).toMatchObject({ enabled: false, appId: '', redirectAllowlist: [] });
  });

  it('is on with an app id, its secret, Token and PUBLIC_BASE_URL; plaintext only without an AES key', () => {
    const { official } = loadConfig({
      ...withOfficialAccount,
      WECHAT_OA_WELCOME_TEXT: '欢迎关注',
      OAUTH_REDIRECT_ALLOWLIST: 'https://h5.example.com, http://127.0.0.1:8080',
    });
    expect(official).toEqual({
      enabled: true,
      appId: 'wx2c2769f8efd9abc2',
      appSecret: OA_SECRET,
      token: 'spamtest',
      encodingAesKey: null,
      welcomeText: '欢迎关注',
      publicBaseUrl: 'https://api.example.com/shop',
      redirectAllowlist: ['https://h5.example.com', 'http://127.0.0.1:8080'],
    });
    expect(
      loadConfig({ ...withOfficialAccount, WECHAT_OA_ENCODING_AES_KEY: AES_KEY }).official,
    ).toMatchObject({
      encodingAesKey: AES_KEY,
    });
  });

  it.each([
    ['WECHAT_OA_APP_SECRET', { WECHAT_OA_APP_SECRET: undefined }],
    ['WECHAT_OA_TOKEN', { WECHAT_OA_TOKEN: undefined }],
    ['PUBLIC_BASE_URL', { PUBLIC_BASE_URL: undefined }],
  ])('production refuses an app id without %s', (variable, change) => {
    expectRefused({ ...withOfficialAccount, ...change }, variable);
  });

  it('outside production needs the secret and Token of an app id, not PUBLIC_BASE_URL (the listener instead)', () => {
    const dev = { NODE_ENV: 'test', WECHAT_MODE: 'live', WECHAT_APP_ID: 'wx1234567890abcdef' };
    const live = { ...dev, WECHAT_APP_SECRET: 's', WECHAT_OA_APP_ID: 'wx2c2769f8efd9abc2', PORT: '4000' };
    expectRefused(live, 'WECHAT_OA_APP_SECRET');
    expectRefused({ ...live, WECHAT_OA_APP_SECRET: OA_SECRET }, 'WECHAT_OA_TOKEN');
    const config = loadConfig({ ...live, WECHAT_OA_APP_SECRET: OA_SECRET, WECHAT_OA_TOKEN: 'abc' });
    expect(config.official.publicBaseUrl).toBe('http://127.0.0.1:4000');
    expect(config.notices.join('\n')).toMatch(/PUBLIC_BASE_URL not set/);
  });

  it.each([
    ['WECHAT_OA_TOKEN', 'ab'],
    ['WECHAT_OA_TOKEN', 'a'.repeat(33)],
    ['WECHAT_OA_TOKEN', 'spam-test'],
    ['WECHAT_OA_ENCODING_AES_KEY', AES_KEY.slice(1)],
    ['WECHAT_OA_ENCODING_AES_KEY', `${AES_KEY}H`],
    ['WECHAT_OA_ENCODING_AES_KEY', `${AES_KEY.slice(1)}+`],
    ['WECHAT_OA_APP_ID', 'gh_10f6c3c3ac5a'],
    ['WECHAT_OA_WELCOME_TEXT', 'x'.repeat(601)],
    ['PUBLIC_BASE_URL', 'https://api.example.com/'],
    ['PUBLIC_BASE_URL', 'https://api.example.com/shop/'],
    ['PUBLIC_BASE_URL', 'https://api.example.com?x=1'],
    ['PUBLIC_BASE_URL', 'https://api.example.com#top'],
    ['PUBLIC_BASE_URL', 'https://user:pw@api.example.com'],
    ['PUBLIC_BASE_URL', 'https://API.example.com'],
    ['PUBLIC_BASE_URL', 'https://api.example.com:443'],
    ['PUBLIC_BASE_URL', 'ftp://api.example.com'],
    ['PUBLIC_BASE_URL', 'api.example.com'],
    ['OAUTH_REDIRECT_ALLOWLIST', 'https://h5.example.com/'],
    ['OAUTH_REDIRECT_ALLOWLIST', 'https://h5.example.com,https://H5.example.org'],
    ['OAUTH_REDIRECT_ALLOWLIST', 'https://h5.example.com:443'],
    ['OAUTH_REDIRECT_ALLOWLIST', 'h5.example.com'],
    ['OAUTH_REDIRECT_ALLOWLIST', '*'],
  ])('refuses %s=%j in every environment, naming it', (variable, value) => {
    expectRefused({ ...withOfficialAccount, [variable]: value }, variable);
    expectRefused({ NODE_ENV: 'test', ...{ [variable]: value } }, variable);
  });

  it('counts the welcome text in characters, not bytes', () => {
    const text = '欢'.repeat(600);
    expect(loadConfig({ ...withOfficialAccount, WECHAT_OA_WELCOME_TEXT: text }).official.welcomeText).toBe(
      text,
    );
  });

  it('in the sandbox plays an official account of its own, with Token `sandbox` unless set', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.official).toMatchObject({ enabled: true, appId: SANDBOX_OA_APP_ID, token: 'sandbox' });
    expect(config.notices.join('\n')).toMatch(/official account is simulated/);
    const own = loadConfig({
      NODE_ENV: 'test',
      WECHAT_OA_APP_ID: 'wx2c2769f8efd9abc2',
      WECHAT_OA_TOKEN: 'mine',
    });
    expect(own.official).toMatchObject({ enabled: true, appId: 'wx2c2769f8efd9abc2', token: 'mine' });
  });
});
