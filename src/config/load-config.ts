import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { AppConfig, NodeEnv } from './app-config.js';
import { ConfigError } from './config-error.js';
import { loadDevSecrets } from './dev-secrets.js';
import { EnvironmentVariables } from './env.schema.js';
import { loadOfficialAccountConfig } from './official-account-config.js';
import { loadWechatPayConfig } from './wechat-pay-config.js';

export { ConfigError } from './config-error.js';

export interface LoadConfigOptions {
  /**
   * Keep the development secrets used when JWT_SECRET or DATA_ENCRYPTION_KEY is not set outside
   * production in a file, beside the SQLite file (./data for a MySQL database), so that a restart
   * keeps logins and encrypted data. The service's entry point asks for it; other callers (tests,
   * the migration CLI) get secrets for their process only and write nothing.
   */
  keepDevSecrets?: boolean;
  /** Where to keep them instead (implies keepDevSecrets). */
  devSecretsDir?: string;
}

const DEFAULT_SQLITE_FILE = './data/app.sqlite';
/** class-validator constraints about a value's kind, reported before its bounds. */
const TYPE_CONSTRAINTS = ['isInt', 'isString', 'isIn', 'isBase64', 'isUrl', 'matches'];

/**
 * Validates the environment once and returns the typed configuration. Pure unless asked to keep
 * development secrets, so tests can build any number of apps from plain objects.
 */
export function loadConfig(
  rawEnv: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): AppConfig {
  const env = plainToInstance(EnvironmentVariables, rawEnv, { excludeExtraneousValues: false });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    // "abc" for PORT breaks IsInt, Min and Max at once: say what is wrong with it (not an integer)
    // rather than whichever bound class-validator happened to list first.
    const constraints = first.constraints ?? {};
    const key = TYPE_CONSTRAINTS.find((name) => name in constraints) ?? Object.keys(constraints)[0];
    const reason = key ? constraints[key] : 'is malformed';
    // The validator's message starts with the property name; keep just the reason.
    throw new ConfigError(first.property, reason.replace(new RegExp(`^${first.property}\\s*`), ''));
  }

  const nodeEnv = (env.NODE_ENV ?? 'development') as NodeEnv;
  const production = nodeEnv === 'production';
  const notices: string[] = [];
  const require = (name: keyof EnvironmentVariables, why = 'is required in production') => {
    throw new ConfigError(name, why);
  };

  // Database
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    if (production) require('DATABASE_URL');
    databaseUrl = `sqlite:${DEFAULT_SQLITE_FILE}`;
    notices.push(`DATABASE_URL not set: using embedded SQLite at ${DEFAULT_SQLITE_FILE}`);
  }
  const sqlite = databaseUrl.startsWith('sqlite:');
  const sqliteTarget = sqlite ? databaseUrl.slice('sqlite:'.length) : undefined;
  const sqlitePath =
    sqliteTarget === undefined
      ? undefined
      : sqliteTarget === ':memory:'
        ? ':memory:'
        : absolute(sqliteTarget);
  if (production && sqlitePath === ':memory:') {
    throw new ConfigError(
      'DATABASE_URL',
      'must not be an in-memory SQLite database in production (a restart loses every row)',
    );
  }

  // JWT
  if (env.JWT_SECRET !== undefined) {
    if (Buffer.byteLength(env.JWT_SECRET, 'utf8') < 32) {
      throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes');
    }
    if (production) refuseWeak('JWT_SECRET', env.JWT_SECRET, 'openssl rand -base64 48');
  } else if (production) require('JWT_SECRET');

  // Data encryption key
  let dataKey: Buffer | undefined;
  if (env.DATA_ENCRYPTION_KEY !== undefined) {
    dataKey = Buffer.from(env.DATA_ENCRYPTION_KEY, 'base64');
    // Buffer.from skips what is not base64 instead of refusing it: only a value that is exactly
    // the encoding of 32 bytes is a key.
    if (dataKey.length !== 32 || dataKey.toString('base64') !== env.DATA_ENCRYPTION_KEY) {
      throw new ConfigError('DATA_ENCRYPTION_KEY', 'must be 32 bytes of base64');
    }
    if (production) refuseWeak('DATA_ENCRYPTION_KEY', dataKey, 'openssl rand -base64 32');
  } else if (production) require('DATA_ENCRYPTION_KEY');

  // WeChat
  const mode = (env.WECHAT_MODE ?? (env.WECHAT_APP_ID || production ? 'live' : 'sandbox')) as
    'live' | 'sandbox';
  if (mode === 'sandbox') {
    if (production) throw new ConfigError('WECHAT_MODE', 'must not be sandbox in production');
    notices.push('WECHAT_MODE=sandbox: WeChat is simulated in-process (any code logs in; see README)');
  } else {
    if (!env.WECHAT_APP_ID) require('WECHAT_APP_ID', 'is required when WECHAT_MODE is live');
    if (!env.WECHAT_APP_SECRET) require('WECHAT_APP_SECRET', 'is required when WECHAT_MODE is live');
  }
  const apiBaseUrl = (env.WECHAT_API_BASE_URL ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
  // The app secret and every user's session travel in these calls.
  if (production && !isHttpsOrLoopback(apiBaseUrl)) {
    throw new ConfigError(
      'WECHAT_API_BASE_URL',
      'must be https:// in production (http:// only to a loopback address: 127.0.0.0/8, ::1, localhost)',
    );
  }

  const wechatTimeoutMs = env.WECHAT_TIMEOUT_MS ?? 5000;
  const wechatAppId = env.WECHAT_APP_ID ?? 'wxsandbox000000000';
  const wechatPay = loadWechatPayConfig(env, {
    production,
    wechatAppId,
    timeoutMs: wechatTimeoutMs,
    notices,
  });

  const official = loadOfficialAccountConfig(env, {
    production,
    sandbox: mode === 'sandbox',
    port: env.PORT ?? 3000,
    notices,
  });

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const metricsToken = env.METRICS_TOKEN;
  if (production && metricsToken !== undefined)
    refuseWeak('METRICS_TOKEN', metricsToken, 'openssl rand -base64 24');
  const corsOrigins = parseCorsOrigins(env.CORS_ORIGINS);

  // Last, once everything else is known good: a bad variable must not leave a secrets file behind.
  let jwtSecret = env.JWT_SECRET;
  if (jwtSecret === undefined || dataKey === undefined) {
    const missing = [jwtSecret === undefined && 'JWT_SECRET', dataKey === undefined && 'DATA_ENCRYPTION_KEY']
      .filter(Boolean)
      .join(' and ');
    const dir =
      options.devSecretsDir ??
      (options.keepDevSecrets ? defaultDevSecretsDir(nodeEnv, sqlitePath) : undefined);
    if (dir === undefined) {
      jwtSecret ??= randomBytes(48).toString('base64url');
      dataKey ??= randomBytes(32);
      notices.push(
        `${missing} not set: generated for this process only (tokens and encrypted data die with it)`,
      );
    } else {
      const kept = loadDevSecrets(dir);
      jwtSecret ??= kept.jwtSecret;
      dataKey ??= kept.dataEncryptionKey;
      notices.push(
        `${missing} not set: using the development secrets ${kept.created ? 'generated now and kept' : 'kept'} in ${kept.file} (set the variables to use your own; production requires them)`,
      );
    }
  }

  return {
    env: nodeEnv,
    http: {
      host: env.HOST || '0.0.0.0',
      port: env.PORT ?? 3000,
      trustProxy,
      corsOrigins,
      bodyLimit: 1024 * 1024,
    },
    database: {
      type: sqlite ? 'better-sqlite3' : databaseUrl.startsWith('mariadb:') ? 'mariadb' : 'mysql',
      url: databaseUrl,
      sqlitePath,
      migrationsRun: env.DATABASE_MIGRATIONS_RUN !== 'false',
      synchronize: false,
    },
    redis: { url: env.REDIS_URL },
    jwt: {
      secret: jwtSecret,
      accessTtl: env.JWT_ACCESS_TTL ?? 900,
      refreshTtl: env.JWT_REFRESH_TTL ?? 2592000,
      issuer: env.JWT_ISSUER ?? 'wechat-miniprogram-backend',
      audience: env.JWT_AUDIENCE ?? 'wechat-miniprogram',
    },
    dataEncryptionKey: dataKey,
    wechat: {
      mode,
      appId: wechatAppId,
      appSecret: env.WECHAT_APP_SECRET ?? '',
      apiBaseUrl,
      timeoutMs: wechatTimeoutMs,
    },
    wechatPay,
    official,
    orders: { paymentTtlSeconds: env.ORDER_PAYMENT_TTL ?? 900 },
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED !== 'false',
      login: env.RATE_LIMIT_LOGIN ?? 60,
      wechatUser: env.RATE_LIMIT_WECHAT_USER ?? 30,
    },
    metricsToken,
    adminOpenids: new Set(list(env.ADMIN_OPENIDS ?? '')),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    notices,
  };
}

/** The secrets live with the data they protect: beside the SQLite file, or in ./data for MySQL. */
function defaultDevSecretsDir(nodeEnv: NodeEnv, sqlitePath: string | undefined): string | undefined {
  // Tests are hermetic, and an in-memory database forgets what the secrets protect anyway.
  if (nodeEnv === 'test' || sqlitePath === ':memory:') return undefined;
  return sqlitePath ? dirname(sqlitePath) : absolute(dirname(DEFAULT_SQLITE_FILE));
}

function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  const proxies = list(value);
  // Checked here, with the rules of Fastify's proxy-addr, so that a bad entry is named like any
  // other bad variable instead of failing later inside Fastify with a line naming no variable.
  proxies.forEach((proxy, index) => {
    const problem = proxyProblem(proxy);
    if (problem !== undefined) throw new ConfigError('TRUST_PROXY', `entry ${index + 1} ${problem}`);
  });
  return proxies;
}

/** What is wrong with an IP address, `ip/prefix` or IPv4 `ip/netmask`, as proxy-addr reads them. */
function proxyProblem(value: string): string | undefined {
  const [ip, range, ...rest] = value.split('/');
  const version = isIP(ip);
  if (version === 0 || rest.length > 0) return 'is not an IP address or CIDR';
  if (range === undefined) return undefined;
  const prefix = /^\d{1,3}$/.test(range)
    ? Number(range)
    : version === 4 && isIP(range) === 4
      ? netmaskPrefix(range)
      : undefined;
  if (prefix === undefined || prefix > (version === 4 ? 32 : 128)) {
    return 'is not an IP address or CIDR (bad prefix or netmask)';
  }
  if (prefix === 0) return 'is a /0 range, which matches every address: use true to trust every proxy';
  return undefined;
}

/** The prefix length of a contiguous IPv4 netmask (255.255.0.0: 16), else undefined. */
function netmaskPrefix(mask: string): number | undefined {
  const bits = mask.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const host = 2 ** 32 - 1 - bits;
  // The host part must be 2^k - 1: ones only, below the network part.
  if ((host & (host + 1)) !== 0) return undefined;
  return 32 - Math.log2(host + 1);
}

/**
 * Origins exactly as a browser sends them in `Origin` (an entry written otherwise, with a path, a
 * trailing slash or a default port, would never match), or `*` alone. `null` is refused: it is
 * the origin of sandboxed frames and local files, which anyone can produce.
 */
function parseCorsOrigins(value: string | undefined): string[] | '*' | false {
  if (value === undefined) return false;
  const origins = list(value);
  if (origins.length === 0) throw new ConfigError('CORS_ORIGINS', 'lists no origin');
  if (origins.includes('*')) {
    if (origins.length > 1) throw new ConfigError('CORS_ORIGINS', 'must be * alone or a list of origins');
    return '*';
  }
  origins.forEach((origin, index) => {
    if (!isBrowserOrigin(origin)) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `entry ${index + 1} is not an origin as browsers send it (https://host[:port], lower case, no path)`,
      );
    }
  });
  return origins;
}

function isBrowserOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function isHttpsOrLoopback(value: string): boolean {
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * A production secret anyone could guess or that a tool may silently change: whitespace at either
 * end (trimmed by some .env readers and not others), or fewer than 16 distinct bytes (one character
 * repeated, a word, a short pattern).
 */
function refuseWeak(variable: string, secret: string | Buffer, remedy: string): void {
  if (typeof secret === 'string' && /^\s|\s$/.test(secret)) {
    throw new ConfigError(variable, `must not begin or end with whitespace (generate one: ${remedy})`);
  }
  const distinct = new Set(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret).size;
  if (distinct < 16) {
    const what = distinct === 1 ? 'one byte repeated' : 'fewer than 16 distinct bytes';
    throw new ConfigError(variable, `is too weak: ${what} (generate one: ${remedy})`);
  }
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

/** The entries of a comma-separated variable, trimmed, empty ones dropped. */
function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
