import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proxyAddr from '@fastify/proxy-addr';
import { ConfigError, loadConfig } from './load-config.js';

/** 32 distinct bytes, so no production check finds the key weak. */
const STRONG_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64');
const STRONG_SECRET = 'Zk3v9Q2xLr7TpW1mNc8bYh4sJd6gFa0e';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/app',
  JWT_SECRET: STRONG_SECRET,
  DATA_ENCRYPTION_KEY: STRONG_KEY,
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_APP_SECRET: 'secret',
};

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'load-config-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
/** A directory of its own for one test's development secrets, never the repository's ./data. */
const freshDir = () => join(scratch, `secrets-${++dirs}`);
const load = (env: Record<string, string | undefined>, dir = freshDir()) =>
  loadConfig(env, { devSecretsDir: dir });

function failure(env: Record<string, string | undefined>, dir = freshDir()): ConfigError {
  try {
    load(env, dir);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts with nothing set outside production: SQLite, sandbox, development secrets, all said', () => {
    const config = load({});
    expect(config.database.type).toBe('better-sqlite3');
    expect(config.database.sqlitePath).toMatch(/data\/app\.sqlite$/);
    expect(config.wechat.mode).toBe('sandbox');
    expect(Buffer.byteLength(config.jwt.secret)).toBeGreaterThanOrEqual(32);
    expect(config.dataEncryptionKey).toHaveLength(32);
    const notices = config.notices.join('\n');
    expect(notices).toMatch(/SQLite/);
    expect(notices).toMatch(/JWT_SECRET and DATA_ENCRYPTION_KEY not set/);
    expect(notices).toMatch(/sandbox/);
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

  // Each of these used to start (or die later with a line naming no variable).
  it.each([
    ['TRUST_PROXY', '0.0.0.0/0'],
    ['TRUST_PROXY', '10.0.0.1, ::/0'],
    ['TRUST_PROXY', '10.0.0.0/0.0.0.0'],
    ['TRUST_PROXY', '10.0.0.0/255.0.255.0'],
    ['JWT_SECRET', ' '.repeat(32)],
    ['JWT_SECRET', 'a'.repeat(32)],
    ['JWT_SECRET', 'abcdefghijklmno'.repeat(3)],
    ['JWT_SECRET', ` ${STRONG_SECRET}`],
    ['JWT_SECRET', `${STRONG_SECRET}\n`],
    ['METRICS_TOKEN', ' '.repeat(16)],
    ['METRICS_TOKEN', 'a'.repeat(16)],
    ['METRICS_TOKEN', 'token-token-token-token'],
    ['DATA_ENCRYPTION_KEY', '===='],
    ['DATA_ENCRYPTION_KEY', '!!!!'],
    ['DATA_ENCRYPTION_KEY', '!!!!'.repeat(11)],
    ['DATA_ENCRYPTION_KEY', 'AAAA'],
    ['DATA_ENCRYPTION_KEY', Buffer.alloc(32).toString('base64')],
    ['DATA_ENCRYPTION_KEY', Buffer.alloc(32, 7).toString('base64')],
    ['DATA_ENCRYPTION_KEY', Buffer.from(STRONG_KEY, 'base64').toString('base64url')],
    ['DATABASE_URL', 'sqlite::memory:'],
    ['WECHAT_API_BASE_URL', 'http://api.weixin.qq.com'],
    ['WECHAT_API_BASE_URL', 'http://10.0.0.7:8080'],
    ['WECHAT_API_BASE_URL', 'http://127.0.0.1.example.com'],
    ['CORS_ORIGINS', 'null'],
    ['CORS_ORIGINS', 'https://admin.example.com/'],
    ['CORS_ORIGINS', 'https://admin.example.com,*'],
  ])('refuses %s=%j in production with one line naming the variable, not its value', (variable, value) => {
    const error = failure({ ...production, [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} \\S`));
    expect(error.message).not.toContain('\n');
    if (value.trim()) expect(error.message).not.toContain(value.trim());
  });

  it('says why a weak production secret is refused and how to make one', () => {
    expect(failure({ ...production, JWT_SECRET: 'a'.repeat(40) }).message).toMatch(
      /JWT_SECRET is too weak: one byte repeated \(generate one: openssl rand/,
    );
    expect(failure({ ...production, METRICS_TOKEN: 'abcd'.repeat(8) }).message).toMatch(
      /METRICS_TOKEN is too weak: fewer than 16 distinct bytes/,
    );
    expect(failure({ ...production, JWT_SECRET: ' '.repeat(32) }).message).toMatch(
      /JWT_SECRET must not begin or end with whitespace/,
    );
  });

  it('refuses a /0 TRUST_PROXY range in every environment, pointing at true', () => {
    for (const env of ['production', 'development', 'test']) {
      const error = failure({ ...production, NODE_ENV: env, TRUST_PROXY: '0.0.0.0/0' });
      expect(error.message).toBe(
        'Invalid configuration: TRUST_PROXY entry 1 is a /0 range, which matches every address: use true to trust every proxy',
      );
    }
  });

  it('accepts a strong production secret and token, and plain http:// only to a loopback WeChat', () => {
    for (const url of [
      'http://127.0.0.1:9000',
      'http://127.8.9.10',
      'http://localhost:8080/',
      'http://[::1]:81',
    ]) {
      expect(loadConfig({ ...production, WECHAT_API_BASE_URL: url }).wechat.apiBaseUrl).toBe(
        url.replace(/\/$/, ''),
      );
    }
    const config = loadConfig({ ...production, METRICS_TOKEN: 'q8Vn2LwX5rT1zK7mB4cY' });
    expect(config.metricsToken).toBe('q8Vn2LwX5rT1zK7mB4cY');
    expect(loadConfig({ ...production, DATABASE_URL: 'sqlite:/var/lib/app/app.sqlite' }).database.type).toBe(
      'better-sqlite3',
    );
  });

  it('leaves weak secrets to the developer outside production', () => {
    const config = load({ JWT_SECRET: 'a'.repeat(32), METRICS_TOKEN: ' '.repeat(16) });
    expect(config.jwt.secret).toBe('a'.repeat(32));
    expect(load({ DATABASE_URL: 'sqlite::memory:' }).database.sqlitePath).toBe(':memory:');
  });

  it('says what is wrong with a value of the wrong kind, not which bound it also breaks', () => {
    expect(failure({ ...production, PORT: 'eighty' }).message).toBe(
      'Invalid configuration: PORT must be an integer number',
    );
    expect(failure({ ...production, WECHAT_TIMEOUT_MS: 'soon' }).message).toMatch(
      /WECHAT_TIMEOUT_MS must be an integer/,
    );
    expect(failure({ ...production, PORT: '70000' }).message).toMatch(/PORT must not be greater than 65535/);
    expect(failure({ ...production, TRUST_PROXY: '10.0.0.1,999.1.1.1' }).message).toBe(
      'Invalid configuration: TRUST_PROXY entry 2 is not an IP address or CIDR',
    );
  });

  it('accepts proxies as IPv4 / IPv6 addresses, prefixes and IPv4 netmasks', () => {
    const config = load({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8,::1,fd00::/8,192.168.0.0/255.255.0.0' });
    expect(config.http.trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '192.168.0.0/255.255.0.0',
    ]);
  });

  it('accepts exactly the TRUST_PROXY entries Fastify (proxy-addr) accepts', () => {
    const entries = [
      '10.0.0.1',
      '10.0.0.0/8',
      '10.0.0.0/32',
      '10.0.0.0/33',
      '10.0.0.0/0',
      '10.0.0.0/008',
      '10.0.0.0/255.0.0.0',
      '10.0.0.0/255.255.255.255',
      '10.0.0.0/255.0.255.0',
      '10.0.0.0/0.0.0.0',
      '::/0',
      '::1/128',
      '::1/129',
      'fd00::/7',
      '::ffff:10.0.0.1',
      '::ffff:10.0.0.0/104',
      'fd00::/255.0.0.0',
    ];
    for (const entry of entries) {
      let ours = true;
      try {
        load({ TRUST_PROXY: entry });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        ours = false;
      }
      let fastify = true;
      try {
        proxyAddr.compile([entry]);
      } catch {
        fastify = false;
      }
      expect([entry, ours]).toEqual([entry, fastify]);
    }
  });

  it('counts JWT_SECRET in UTF-8 bytes as written', () => {
    // 11 three-byte characters = 33 bytes although only 11 characters.
    expect(() => load({ JWT_SECRET: '密'.repeat(11) })).not.toThrow();
    expect(failure({ JWT_SECRET: 'a'.repeat(31) }).variable).toBe('JWT_SECRET');
  });

  it('reads TRUST_PROXY as a list of proxies and ADMIN_OPENIDS as a set', () => {
    const config = load({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16', ADMIN_OPENIDS: 'o1, o2,' });
    expect(config.http.trustProxy).toEqual(['10.0.0.1', '10.1.0.0/16']);
    expect([...config.adminOpenids]).toEqual(['o1', 'o2']);
  });

  it('reads CORS_ORIGINS as * (never reflected) or a list of origins', () => {
    expect(load({ CORS_ORIGINS: '*' }).http.corsOrigins).toBe('*');
    expect(load({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).http.corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
    expect(load({}).http.corsOrigins).toBe(false);
    expect(failure({ CORS_ORIGINS: 'https://a.example.com:443' }).variable).toBe('CORS_ORIGINS');
  });

  it('chooses SQLite in memory and live WeChat when asked', () => {
    const config = load({
      DATABASE_URL: 'sqlite::memory:',
      WECHAT_APP_ID: 'wx1234567890abcdef',
      WECHAT_APP_SECRET: 's',
    });
    expect(config.database.sqlitePath).toBe(':memory:');
    expect(config.wechat.mode).toBe('live');
  });
});

describe('development secrets', () => {
  const secretsFile = (dir: string) => join(dir, 'dev-secrets.json');

  it('are generated once into dev-secrets.json (mode 0600) and reused by the next start', () => {
    const dir = freshDir();
    const first = load({}, dir);
    const file = secretsFile(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.notices.join('\n')).toContain(`generated now and kept in ${file}`);

    const second = load({}, dir);
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(second.dataEncryptionKey.equals(first.dataEncryptionKey)).toBe(true);
    expect(second.notices.join('\n')).toContain(`kept in ${file}`);
    expect(second.notices.join('\n')).not.toContain('generated now');

    // The notices name the file, never what it holds.
    const notices = [...first.notices, ...second.notices].join('\n');
    expect(notices).not.toContain(first.jwt.secret);
    expect(notices).not.toContain(first.dataEncryptionKey.toString('base64'));
    expect(readdirSync(dir)).toEqual(['dev-secrets.json']);
  });

  it('live beside the SQLite file by default', () => {
    const dir = join(freshDir(), 'nested');
    const config = loadConfig(
      { DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}` },
      { keepDevSecrets: true },
    );
    expect(existsSync(secretsFile(dir))).toBe(true);
    expect(config.notices.join('\n')).toContain(secretsFile(dir));
  });

  it('fill in only the variable that is missing', () => {
    const dir = freshDir();
    const config = load({ JWT_SECRET: STRONG_SECRET }, dir);
    expect(config.jwt.secret).toBe(STRONG_SECRET);
    const stored = JSON.parse(readFileSync(secretsFile(dir), 'utf8')) as Record<string, string>;
    expect(config.dataEncryptionKey.toString('base64')).toBe(stored.DATA_ENCRYPTION_KEY);
    expect(config.notices.join('\n')).toMatch(/^DATA_ENCRYPTION_KEY not set/m);
  });

  it('are never written in production, under NODE_ENV=test, for an in-memory database, or for a bad configuration', () => {
    const dir = freshDir();
    expect(failure({ ...production, JWT_SECRET: undefined }, dir).message).toMatch(/JWT_SECRET is required/);
    const keep = { keepDevSecrets: true };
    const nested = join(freshDir(), 'db');
    const inNested = `sqlite:${join(nested, 'app.sqlite')}`;
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: inNested }, keep).notices.join('\n')).toMatch(
      /generated for this process only/,
    );
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }, keep).notices.join('\n')).toMatch(
      /for this process only/,
    );
    expect(() => loadConfig({ DATABASE_URL: inNested, PORT: 'x' }, keep)).toThrow(/PORT/);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(nested)).toBe(false);
  });

  it('are kept only when the caller asks (the service does; the migration CLI and tests need not)', () => {
    const nested = join(freshDir(), 'db');
    const config = loadConfig({ DATABASE_URL: `sqlite:${join(nested, 'app.sqlite')}` });
    expect(config.notices.join('\n')).toMatch(/generated for this process only/);
    expect(existsSync(nested)).toBe(false);
  });

  it('refuse a file other users can read, or one that holds no usable secrets, naming the file', () => {
    const dir = freshDir();
    load({}, dir);
    chmodSync(secretsFile(dir), 0o644);
    const open = failure({}, dir);
    expect(open.variable).toBe('JWT_SECRET');
    expect(open.message).toContain(`${secretsFile(dir)} is readable or writable by other users`);

    writeFileSync(secretsFile(dir), '{"JWT_SECRET":"short"}', { mode: 0o600 });
    chmodSync(secretsFile(dir), 0o600);
    expect(failure({}, dir).message).toMatch(/does not hold a 32-byte JWT_SECRET and DATA_ENCRYPTION_KEY/);
    writeFileSync(secretsFile(dir), 'not json');
    expect(failure({}, dir).message).toMatch(/is not JSON/);
  });
});
