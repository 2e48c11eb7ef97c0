/**
 * WeChat Pay's side of the wire, written from its documentation and independently of the
 * service's code (so a misreading there is not mirrored here): signing answers and notifications,
 * encrypting resources with the APIv3 key, checking a merchant's Authorization header. Used by the
 * fake WeChat Pay server and by unit tests that build notifications by hand.
 */
import { createCipheriv, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/** The key and the serial (a platform certificate's, or `PUB_KEY_ID_…`) that sign as WeChat Pay. */
export interface WechatPaySigningKey {
  serial: string;
  privateKey: KeyObject;
}

export interface SignedHeaders {
  'wechatpay-timestamp': string;
  'wechatpay-nonce': string;
  'wechatpay-signature': string;
  'wechatpay-serial': string;
  'wechatpay-signature-type': string;
  [name: string]: string;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The headers WeChat Pay sends with `body`: signature over `timestamp\nnonce\nbody\n`. */
export function signedHeaders(
  key: WechatPaySigningKey,
  body: Buffer | string,
  options: { timestamp?: number; nonce?: string } = {},
): SignedHeaders {
  const timestamp = String(options.timestamp ?? nowSeconds());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const message = Buffer.concat([
    Buffer.from(`${timestamp}\n${nonce}\n`),
    Buffer.from(body),
    Buffer.from('\n'),
  ]);
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': sign('sha256', message, key.privateKey).toString('base64'),
    'wechatpay-serial': key.serial,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  };
}

export interface Resource {
  algorithm: 'AEAD_AES_256_GCM';
  ciphertext: string;
  associated_data: string;
  nonce: string;
  original_type?: string;
}

/** AEAD_AES_256_GCM with the APIv3 key: ciphertext = base64(data ‖ 16-byte tag). */
export function encryptResource(
  apiV3Key: string | Buffer,
  plaintext: string,
  associatedData: string,
  nonce = randomBytes(6).toString('hex'),
): Resource {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(nonce));
  cipher.setAAD(Buffer.from(associatedData));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: sealed.toString('base64'),
    associated_data: associatedData,
    nonce,
  };
}

export type NotificationEvent =
  'TRANSACTION.SUCCESS' | 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED';

export interface BuiltNotification {
  headers: SignedHeaders;
  body: Buffer;
}

/**
 * A notification as WeChat Pay POSTs it: the envelope with the resource encrypted, signed. `body`
 * is the exact bytes to send (compact JSON, Chinese summary as UTF-8).
 */
export function buildNotification(options: {
  key: WechatPaySigningKey;
  apiV3Key: string | Buffer;
  eventType: NotificationEvent;
  resource: Record<string, unknown>;
  id?: string;
  timestamp?: number;
}): BuiltNotification {
  const transaction = options.eventType.startsWith('TRANSACTION');
  const originalType = transaction ? 'transaction' : 'refund';
  const resource = {
    ...encryptResource(options.apiV3Key, JSON.stringify(options.resource), originalType),
    original_type: originalType,
  };
  const envelope = {
    id: options.id ?? `EV-${randomBytes(10).toString('hex')}`,
    create_time: beijingTime(new Date()),
    resource_type: 'encrypt-resource',
    event_type: options.eventType,
    summary: transaction ? '支付成功' : '退款状态变更',
    resource,
  };
  const body = Buffer.from(JSON.stringify(envelope), 'utf8');
  return { headers: signedHeaders(options.key, body, { timestamp: options.timestamp }), body };
}

/** RFC 3339 in Beijing time, seconds precision: 2026-12-01T15:30:00+08:00. */
export function beijingTime(date: Date): string {
  return `${new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

export interface MerchantAuthorization {
  mchid: string;
  nonce: string;
  timestamp: string;
  serial: string;
  signature: string;
}

/** The fields of `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…`, or undefined when it is not one. */
export function parseAuthorization(header: string | undefined): MerchantAuthorization | undefined {
  const match = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(header ?? '');
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const pair = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
    if (!pair) return undefined;
    fields.set(pair[1], pair[2]);
  }
  const [mchid, nonce, timestamp, serial, signature] = [
    'mchid',
    'nonce_str',
    'timestamp',
    'serial_no',
    'signature',
  ].map((name) => fields.get(name));
  if (!mchid || !nonce || !timestamp || !serial || !signature) return undefined;
  return { mchid, nonce, timestamp, serial, signature };
}

/** Whether the merchant signed `METHOD\nPATH_AND_QUERY\ntimestamp\nnonce\nbody\n` with its key. */
export function merchantSignatureValid(
  publicKey: KeyObject,
  auth: MerchantAuthorization,
  method: string,
  pathAndQuery: string,
  body: Buffer,
): boolean {
  const message = Buffer.concat([
    Buffer.from(`${method}\n${pathAndQuery}\n${auth.timestamp}\n${auth.nonce}\n`),
    body,
    Buffer.from('\n'),
  ]);
  try {
    return verify('sha256', message, publicKey, Buffer.from(auth.signature, 'base64'));
  } catch {
    return false;
  }
}
