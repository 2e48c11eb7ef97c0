import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import type { EnvironmentVariables } from './env.schema.js';

export type WechatPayMode = 'live' | 'sandbox' | 'off';

export interface WechatPayConfig {
  mode: WechatPayMode;
  mchid: string;
  merchantSerial: string;
  /** The merchant API private key, parsed once here; set in live mode. */
  privateKey?: KeyObject;
  /** The 32 bytes of the APIv3 key; set in live mode. */
  apiV3Key?: Buffer;
  /** The WeChat Pay public key and its id, when configured. */
  publicKey?: { id: string; key: KeyObject };
  notifyUrl: string;
  refundNotifyUrl: string;
  apiBaseUrl: string;
  /** `appid` of every prepay and of paySign: WECHAT_APP_ID. */
  appId: string;
  /** WECHAT_TIMEOUT_MS: the bound of each WeChat Pay call. */
  timeoutMs: number;
}

/** What the sandbox answers as when nothing is set (a number shaped like a real merchant id). */
const SANDBOX_MCHID = '1900000001';
const SANDBOX_SERIAL = '5A4D1E0C0000000000000000000000000000SBX0';
const SANDBOX_NOTIFY_URL = 'http://127.0.0.1/api/v1/pay/notify';
const SANDBOX_REFUND_NOTIFY_URL = 'http://127.0.0.1/api/v1/pay/refund-notify';
const DEFAULT_API_BASE_URL = 'https://api.mch.weixin.qq.com';
const MIN_RSA_BITS = 2048;

type Env = Pick<
  EnvironmentVariables,
  | 'WECHAT_APP_ID'
  | 'WECHAT_PAY_MODE'
  | 'WECHAT_PAY_MCHID'
  | 'WECHAT_PAY_MERCHANT_SERIAL'
  | 'WECHAT_PAY_PRIVATE_KEY'
  | 'WECHAT_PAY_APIV3_KEY'
  | 'WECHAT_PAY_PUBLIC_KEY'
  | 'WECHAT_PAY_PUBLIC_KEY_ID'
  | 'WECHAT_PAY_NOTIFY_URL'
  | 'WECHAT_PAY_REFUND_NOTIFY_URL'
  | 'WECHAT_PAY_API_BASE_URL'
>;

/**
 * The WeChat Pay part of the configuration, from an environment class-validator has already checked
 * for formats. Every variable that is set is checked and parsed (keys included) in every mode, so a
 * bad value is found at start-up rather than on the first payment; each failure is one ConfigError
 * naming the variable and never quoting its value (it may be a key).
 */
export function loadWechatPayConfig(
  env: Env,
  context: { production: boolean; wechatAppId: string; timeoutMs: number; notices: string[] },
): WechatPayConfig {
  const mode = (env.WECHAT_PAY_MODE ??
    (env.WECHAT_PAY_MCHID ? 'live' : context.production ? 'off' : 'sandbox')) as WechatPayMode;
  if (mode === 'sandbox' && context.production) {
    throw new ConfigError('WECHAT_PAY_MODE', 'must not be sandbox in production');
  }

  const privateKey =
    env.WECHAT_PAY_PRIVATE_KEY === undefined ? undefined : parsePrivateKey(env.WECHAT_PAY_PRIVATE_KEY);
  const apiV3Key =
    env.WECHAT_PAY_APIV3_KEY === undefined ? undefined : parseApiV3Key(env.WECHAT_PAY_APIV3_KEY);
  const publicKey = parsePublicKeyPair(env.WECHAT_PAY_PUBLIC_KEY, env.WECHAT_PAY_PUBLIC_KEY_ID);
  const notifyUrl = checkNotifyUrl('WECHAT_PAY_NOTIFY_URL', env.WECHAT_PAY_NOTIFY_URL);
  const refundNotifyUrl = checkNotifyUrl('WECHAT_PAY_REFUND_NOTIFY_URL', env.WECHAT_PAY_REFUND_NOTIFY_URL);

  if (mode === 'live') {
    const required: Array<[keyof Env, unknown]> = [
      ['WECHAT_PAY_MCHID', env.WECHAT_PAY_MCHID],
      ['WECHAT_PAY_MERCHANT_SERIAL', env.WECHAT_PAY_MERCHANT_SERIAL],
      ['WECHAT_PAY_PRIVATE_KEY', privateKey],
      ['WECHAT_PAY_APIV3_KEY', apiV3Key],
      ['WECHAT_PAY_NOTIFY_URL', notifyUrl],
      ['WECHAT_PAY_REFUND_NOTIFY_URL', refundNotifyUrl],
      // The appid of every prepay and paySign: the WeChat sandbox's made-up one would be refused.
      ['WECHAT_APP_ID', env.WECHAT_APP_ID],
    ];
    for (const [name, value] of required) {
      if (value === undefined) throw new ConfigError(name, 'is required when WECHAT_PAY_MODE is live');
    }
  } else if (mode === 'sandbox') {
    context.notices.push(
      'WECHAT_PAY_MODE=sandbox: WeChat Pay is simulated in-process (POST /api/v1/sandbox/orders/:id/pay pays an order; see README)',
    );
  }

  return {
    mode,
    mchid: env.WECHAT_PAY_MCHID ?? SANDBOX_MCHID,
    merchantSerial: env.WECHAT_PAY_MERCHANT_SERIAL ?? SANDBOX_SERIAL,
    privateKey,
    apiV3Key,
    publicKey,
    notifyUrl: notifyUrl ?? SANDBOX_NOTIFY_URL,
    refundNotifyUrl: refundNotifyUrl ?? SANDBOX_REFUND_NOTIFY_URL,
    apiBaseUrl: (env.WECHAT_PAY_API_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
    appId: context.wechatAppId,
    timeoutMs: context.timeoutMs,
  };
}

/** PEM text (a value starting `-----BEGIN`, where a two-character `\n` is a line break) or a file path. */
function readPem(variable: string, value: string): string {
  if (value.startsWith('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch {
    // The path is not quoted: a value that is not a path may be a key pasted without its header.
    throw new ConfigError(variable, 'is neither PEM text (-----BEGIN …) nor the path of a readable file');
  }
}

/** The label of the first PEM block (`PRIVATE KEY`, `RSA PRIVATE KEY`, …), if any. */
function pemLabel(pem: string): string | undefined {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
}

function parsePrivateKey(value: string): KeyObject {
  const variable = 'WECHAT_PAY_PRIVATE_KEY';
  const pem = readPem(variable, value);
  const label = pemLabel(pem);
  if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') {
    throw new ConfigError(
      variable,
      'must be an unencrypted PEM private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new ConfigError(variable, 'is not a readable PEM private key');
  }
  checkRsa(variable, key, MIN_RSA_BITS);
  return key;
}

function parsePublicKeyPair(
  value: string | undefined,
  id: string | undefined,
): { id: string; key: KeyObject } | undefined {
  const variable = 'WECHAT_PAY_PUBLIC_KEY';
  if (value === undefined && id === undefined) return undefined;
  if (value === undefined) {
    throw new ConfigError(variable, 'is required when WECHAT_PAY_PUBLIC_KEY_ID is set (both or neither)');
  }
  const pem = readPem(variable, value);
  if (pemLabel(pem) !== 'PUBLIC KEY') {
    throw new ConfigError(variable, 'must be a PEM public key (BEGIN PUBLIC KEY)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new ConfigError(variable, 'is not a readable PEM public key');
  }
  checkRsa(variable, key, 0);
  if (id === undefined) {
    throw new ConfigError(
      'WECHAT_PAY_PUBLIC_KEY_ID',
      'is required when WECHAT_PAY_PUBLIC_KEY is set (both or neither)',
    );
  }
  return { id, key };
}

function checkRsa(variable: string, key: KeyObject, minBits: number): void {
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(variable, 'must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < minBits) throw new ConfigError(variable, `must be an RSA key of at least ${minBits} bits`);
}

function parseApiV3Key(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length !== 32) {
    throw new ConfigError('WECHAT_PAY_APIV3_KEY', 'must be exactly 32 bytes (UTF-8, as written)');
  }
  return bytes;
}

function checkNotifyUrl(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, 'must be an absolute http:// or https:// URL');
  }
  // WeChat Pay refuses a notify_url with a query; a bare `?` or a fragment is no better.
  if (value.includes('?') || value.includes('#')) {
    throw new ConfigError(variable, 'must not have a query string or a fragment');
  }
  if (value.length > 255) throw new ConfigError(variable, 'must be at most 255 characters');
  return value;
}
