import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { AppConfig, NodeEnv } from './app-config.js';
import { EnvironmentVariables } from './env.schema.js';

/** Raised for a missing or malformed variable; main.ts prints its one line and exits non-zero. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_SQLITE_FILE = './data/app.sqlite';
/** class-validator constraints about a value's kind, reported before its bounds. */
const TYPE_CONSTRAINTS = ['isInt', 'isString', 'isIn', 'isBase64', 'isUrl', 'matches'];

/**
 * Validates the environment once and returns the typed configuration. Pure apart from generating
 * development secrets, so tests can build any number of apps from plain objects.
 */
export function loadConfig(rawEnv: Record<string, string | undefined>): AppConfig {
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

  // JWT
  let jwtSecret = env.JWT_SECRET;
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes');
  }
  if (!jwtSecret) {
    if (production) require('JWT_SECRET');
    jwtSecret = randomBytes(48).toString('base64url');
    notices.push(
      'JWT_SECRET not set: generated one for this process (tokens die with it; set it to keep them)',
    );
  }

  // Data encryption key
  let dataKey: Buffer;
  if (env.DATA_ENCRYPTION_KEY) {
    dataKey = Buffer.from(env.DATA_ENCRYPTION_KEY, 'base64');
    if (dataKey.length !== 32) throw new ConfigError('DATA_ENCRYPTION_KEY', 'must be 32 bytes of base64');
  } else {
    if (production) require('DATA_ENCRYPTION_KEY');
    dataKey = randomBytes(32);
    notices.push(
      'DATA_ENCRYPTION_KEY not set: generated one for this process (data encrypted at rest now is unreadable after a restart)',
    );
  }

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

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const metricsToken = env.METRICS_TOKEN;
  const cors = env.CORS_ORIGINS;

  return {
    env: nodeEnv,
    http: {
      host: env.HOST || '0.0.0.0',
      port: env.PORT ?? 3000,
      trustProxy,
      corsOrigins: cors === undefined ? false : cors === '*' ? true : cors.split(',').map((s) => s.trim()),
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
      appId: env.WECHAT_APP_ID ?? 'wxsandbox000000000',
      appSecret: env.WECHAT_APP_SECRET ?? '',
      apiBaseUrl: (env.WECHAT_API_BASE_URL ?? 'https://api.weixin.qq.com').replace(/\/+$/, ''),
      timeoutMs: env.WECHAT_TIMEOUT_MS ?? 5000,
    },
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED !== 'false',
      login: env.RATE_LIMIT_LOGIN ?? 60,
      wechatUser: env.RATE_LIMIT_WECHAT_USER ?? 30,
    },
    metricsToken,
    adminOpenids: new Set(
      (env.ADMIN_OPENIDS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    notices,
  };
}

function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  const proxies = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Checked here, so that a bad entry is named like any other bad variable instead of failing later
  // inside Fastify's proxy-addr with a line that does not say which variable it came from.
  const bad = proxies.find((proxy) => !isIpOrCidr(proxy));
  if (bad !== undefined)
    throw new ConfigError('TRUST_PROXY', `holds "${bad}", which is not an IP address or CIDR`);
  return proxies;
}

/** An IP address, `ip/prefix` or an IPv4 `ip/netmask`, as proxy-addr takes them. */
function isIpOrCidr(value: string): boolean {
  const [ip, range, ...rest] = value.split('/');
  const version = isIP(ip);
  if (version === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  return version === 4 && isIP(range) === 4;
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}
