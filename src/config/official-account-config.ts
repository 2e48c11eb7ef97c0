import { ConfigError } from './config-error.js';
import type { EnvironmentVariables } from './env.schema.js';

/** The sandbox's official account when WECHAT_OA_APP_ID is unset (shaped like a real app id). */
export const SANDBOX_OA_APP_ID = 'wxsandbox0a0000000';
export const SANDBOX_OA_TOKEN = 'sandbox';
const WELCOME_MAX_CHARACTERS = 600;

export interface OfficialAccountConfig {
  /**
   * false when WECHAT_OA_APP_ID is unset outside the sandbox: every official-account route then
   * answers 404 / 40400, and nothing below is used.
   */
  enabled: boolean;
  /** '' when disabled. */
  appId: string;
  /** '' when disabled or in the sandbox without one. Secret: never logged. */
  appSecret: string;
  /** The callback Token (3–32 of A-Za-z0-9); '' when disabled. Secret: never logged. */
  token: string;
  /** The 43-character EncodingAESKey; null: plaintext mode only. Secret: never logged. */
  encodingAesKey: string | null;
  /** The reply to a subscribe event; null: `success` (no reply). */
  welcomeText: string | null;
  /**
   * Where browsers reach this service, `http(s)://host[:port][/prefix]` without a trailing slash;
   * outside production it defaults to the local listener (the OAuth redirect_uri is built on it).
   */
  publicBaseUrl: string;
  /** Origins (WHATWG serialisation) an OAuth `redirect` or a JS-SDK `url` may have; empty: none. */
  redirectAllowlist: readonly string[];
}

type Env = Pick<
  EnvironmentVariables,
  | 'WECHAT_OA_APP_ID'
  | 'WECHAT_OA_APP_SECRET'
  | 'WECHAT_OA_TOKEN'
  | 'WECHAT_OA_ENCODING_AES_KEY'
  | 'WECHAT_OA_WELCOME_TEXT'
  | 'PUBLIC_BASE_URL'
  | 'OAUTH_REDIRECT_ALLOWLIST'
>;

/**
 * The official-account part of the configuration, from an environment class-validator has checked
 * for formats (app id, Token, EncodingAESKey). What depends on other variables is decided here; each
 * refusal is one ConfigError naming the variable, never quoting its value.
 */
export function loadOfficialAccountConfig(
  env: Env,
  context: { production: boolean; sandbox: boolean; port: number; notices: string[] },
): OfficialAccountConfig {
  const publicBaseUrl =
    env.PUBLIC_BASE_URL === undefined ? undefined : checkPublicBaseUrl(env.PUBLIC_BASE_URL);
  const redirectAllowlist = parseAllowlist(env.OAUTH_REDIRECT_ALLOWLIST);
  const welcomeText = env.WECHAT_OA_WELCOME_TEXT ?? null;
  if (welcomeText !== null && [...welcomeText].length > WELCOME_MAX_CHARACTERS) {
    throw new ConfigError('WECHAT_OA_WELCOME_TEXT', `must be 1-${WELCOME_MAX_CHARACTERS} characters`);
  }
  const fallbackBaseUrl = `http://127.0.0.1:${context.port}`;

  if (context.sandbox) {
    context.notices.push(
      'WECHAT_MODE=sandbox: the official account is simulated too (OAuth codes and openids: see README)',
    );
    return {
      enabled: true,
      appId: env.WECHAT_OA_APP_ID ?? SANDBOX_OA_APP_ID,
      appSecret: env.WECHAT_OA_APP_SECRET ?? '',
      token: env.WECHAT_OA_TOKEN ?? SANDBOX_OA_TOKEN,
      encodingAesKey: env.WECHAT_OA_ENCODING_AES_KEY ?? null,
      welcomeText,
      publicBaseUrl: publicBaseUrl ?? fallbackBaseUrl,
      redirectAllowlist,
    };
  }

  if (env.WECHAT_OA_APP_ID === undefined) {
    return {
      enabled: false,
      appId: '',
      appSecret: '',
      token: '',
      encodingAesKey: null,
      welcomeText: null,
      publicBaseUrl: publicBaseUrl ?? fallbackBaseUrl,
      redirectAllowlist,
    };
  }
  if (env.WECHAT_OA_APP_SECRET === undefined) {
    throw new ConfigError('WECHAT_OA_APP_SECRET', 'is required when WECHAT_OA_APP_ID is set');
  }
  if (env.WECHAT_OA_TOKEN === undefined) {
    throw new ConfigError('WECHAT_OA_TOKEN', 'is required when WECHAT_OA_APP_ID is set');
  }
  if (publicBaseUrl === undefined && context.production) {
    throw new ConfigError('PUBLIC_BASE_URL', 'is required in production when WECHAT_OA_APP_ID is set');
  }
  if (publicBaseUrl === undefined) {
    context.notices.push(`PUBLIC_BASE_URL not set: the official account's links use ${fallbackBaseUrl}`);
  }
  return {
    enabled: true,
    appId: env.WECHAT_OA_APP_ID,
    appSecret: env.WECHAT_OA_APP_SECRET,
    token: env.WECHAT_OA_TOKEN,
    encodingAesKey: env.WECHAT_OA_ENCODING_AES_KEY ?? null,
    welcomeText,
    publicBaseUrl: publicBaseUrl ?? fallbackBaseUrl,
    redirectAllowlist,
  };
}

/** `http(s)://host[:port][/prefix]`: nothing after the path, no user info, no trailing slash. */
function checkPublicBaseUrl(value: string): string {
  const refuse = () =>
    new ConfigError(
      'PUBLIC_BASE_URL',
      'must be http(s)://host[:port][/prefix] without a trailing slash, query, fragment or user info',
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse();
  }
  const path = url.pathname === '/' ? '' : url.pathname;
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username !== '' ||
    url.password !== '' ||
    value.endsWith('/') ||
    // Whatever the URL parser would change (case, default port, a query, a fragment, dots in the
    // path, spaces) is not written the way it will be used.
    `${url.origin}${path}` !== value
  ) {
    throw refuse();
  }
  return value;
}

/**
 * Entries exactly as the WHATWG URL parser serialises an origin (lower-case scheme and host, no
 * default port, no path): an entry written otherwise could never be equal to a URL's origin.
 */
function parseAllowlist(value: string | undefined): string[] {
  if (value === undefined) return [];
  const origins = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  origins.forEach((origin, index) => {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError(
        'OAUTH_REDIRECT_ALLOWLIST',
        `entry ${index + 1} is not an origin (http(s)://host[:port], lower case, no default port, no path)`,
      );
    }
  });
  return [...new Set(origins)];
}
