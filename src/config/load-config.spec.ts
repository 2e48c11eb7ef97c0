import { ConfigError, loadConfig } from './load-config.js';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/app',
  JWT_SECRET: 'x'.repeat(32),
  DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_APP_SECRET: 'secret',
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

describe('loadConfig', () => {
  it('starts with nothing set outside production: SQLite, sandbox, generated secrets, all said', () => {
    const config = loadConfig({});
    expect(config.database.type).toBe('better-sqlite3');
    expect(config.database.sqlitePath).toMatch(/data\/app\.sqlite$/);
    expect(config.wechat.mode).toBe('sandbox');
    expect(Buffer.byteLength(config.jwt.secret)).toBeGreaterThanOrEqual(32);
    expect(config.dataEncryptionKey).toHaveLength(32);
    expect(config.notices.join('\n')).toMatch(
      /SQLite[\s\S]*JWT_SECRET[\s\S]*DATA_ENCRYPTION_KEY[\s\S]*sandbox/,
    );
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 3000, trustProxy: false });
    expect(config.jwt).toMatchObject({ accessTtl: 900, refreshTtl: 2592000 });
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig(production);
    expect(config.database).toMatchObject({ type: 'mysql', migrationsRun: true });
    expect(config.wechat.mode).toBe('live');
    expect(config.notices).toEqual([]);
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: undefined }],
    ['JWT_SECRET', { JWT_SECRET: undefined }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['DATA_ENCRYPTION_KEY', { DATA_ENCRYPTION_KEY: undefined }],
    ['DATA_ENCRYPTION_KEY', { DATA_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }],
    ['DATA_ENCRYPTION_KEY', { DATA_ENCRYPTION_KEY: 'not base64!' }],
    ['WECHAT_MODE', { WECHAT_MODE: 'sandbox' }],
    ['WECHAT_APP_ID', { WECHAT_APP_ID: undefined }],
    ['WECHAT_APP_SECRET', { WECHAT_APP_SECRET: undefined }],
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://x/y' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'sometimes' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.1, 999.1.1.1' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/33' }],
    ['TRUST_PROXY', { TRUST_PROXY: '::1/129' }],
  ])('refuses production without a good %s, naming it in one line', (variable, change) => {
    const error = failure({ ...production, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('\n');
  });

  it('says what is wrong with a value of the wrong kind, not which bound it also breaks', () => {
    expect(failure({ ...production, PORT: 'eighty' }).message).toBe(
      'Invalid configuration: PORT must be an integer number',
    );
    expect(failure({ ...production, WECHAT_TIMEOUT_MS: 'soon' }).message).toMatch(
      /WECHAT_TIMEOUT_MS must be an integer/,
    );
    expect(failure({ ...production, PORT: '70000' }).message).toMatch(/PORT must not be greater than 65535/);
    expect(failure({ ...production, TRUST_PROXY: '999.1.1.1' }).message).toMatch(
      /^Invalid configuration: TRUST_PROXY .*999\.1\.1\.1/,
    );
  });

  it('accepts proxies as IPv4 / IPv6 addresses, prefixes and IPv4 netmasks', () => {
    const config = loadConfig({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8,::1,fd00::/8,192.168.0.0/255.255.0.0' });
    expect(config.http.trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '192.168.0.0/255.255.0.0',
    ]);
  });

  it('counts JWT_SECRET in UTF-8 bytes as written', () => {
    // 11 three-byte characters = 33 bytes although only 11 characters.
    expect(() => loadConfig({ JWT_SECRET: '密'.repeat(11) })).not.toThrow();
    expect(failure({ JWT_SECRET: 'a'.repeat(31) }).variable).toBe('JWT_SECRET');
  });

  it('reads TRUST_PROXY as a list of proxies and ADMIN_OPENIDS as a set', () => {
    const config = loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16', ADMIN_OPENIDS: 'o1, o2,' });
    expect(config.http.trustProxy).toEqual(['10.0.0.1', '10.1.0.0/16']);
    expect([...config.adminOpenids]).toEqual(['o1', 'o2']);
  });

  it('chooses SQLite in memory and live WeChat when asked', () => {
    const config = loadConfig({
      DATABASE_URL: 'sqlite::memory:',
      WECHAT_APP_ID: 'wx1234567890abcdef',
      WECHAT_APP_SECRET: 's',
    });
    expect(config.database.sqlitePath).toBe(':memory:');
    expect(config.wechat.mode).toBe('live');
  });
});
