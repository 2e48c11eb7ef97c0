import { verify } from 'node:crypto';
import { systemClock, unixSeconds, type Clock } from './nonce-and-clock.js';
import { AUTH_SCHEMA } from './request-signer.js';
import type { VerificationKeys } from './verification-keys.js';

/** How far a signed timestamp may be from this service's clock, either way. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

export type HeaderBag = Record<string, string | string[] | undefined>;

/** `content`: signed, but not what it claims to be (a certificate answer whose certificates do not hold up). */
export type VerificationFailure = 'header' | 'timestamp' | 'serial' | 'signature' | 'content';

/** A signed message (answer or notification) that is not WeChat Pay's, or not now. */
export class VerificationFailed extends Error {
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'VerificationFailed';
  }
}

/** Checks WeChat Pay's signature over an answer or a notification. */
export interface SignatureVerifier {
  /** Resolves when the message is WeChat Pay's; rejects with VerificationFailed otherwise. */
  verify(headers: HeaderBag, body: Buffer): Promise<void>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * In order: the four Wechatpay-* headers present (and Signature-Type, when sent, WeChat Pay's one),
 * the timestamp within ±300 s, a key for Wechatpay-Serial, then SHA256withRSA over
 * `timestamp\nnonce\nbody\n` where body is the bytes as received: a parsed and re-serialised body
 * differs in spacing, key order or escapes, and would not verify (or worse, be trusted unverified).
 */
export class WechatPaySignatureVerifier implements SignatureVerifier {
  constructor(
    private readonly keys: VerificationKeys,
    private readonly clock: Clock = systemClock,
  ) {}

  async verify(headers: HeaderBag, body: Buffer): Promise<void> {
    const timestamp = header(headers, 'wechatpay-timestamp');
    const nonce = header(headers, 'wechatpay-nonce');
    const signature = header(headers, 'wechatpay-signature');
    const serial = header(headers, 'wechatpay-serial');
    if (timestamp === undefined || nonce === undefined || signature === undefined || serial === undefined) {
      throw new VerificationFailed(
        'header',
        'a Wechatpay-Timestamp, -Nonce, -Signature or -Serial header is missing',
      );
    }
    const type = header(headers, 'wechatpay-signature-type');
    if (type !== undefined && type !== AUTH_SCHEMA) {
      throw new VerificationFailed('header', 'Wechatpay-Signature-Type is not WECHATPAY2-SHA256-RSA2048');
    }
    if (!/^\d{1,12}$/.test(timestamp))
      throw new VerificationFailed('header', 'Wechatpay-Timestamp is malformed');
    if (!BASE64.test(signature)) throw new VerificationFailed('header', 'Wechatpay-Signature is not base64');
    if (Math.abs(unixSeconds(this.clock) - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) {
      throw new VerificationFailed('timestamp', 'Wechatpay-Timestamp is more than 300 s from this clock');
    }
    const key = await this.keys.keyFor(serial);
    if (!key) throw new VerificationFailed('serial', 'Wechatpay-Serial names no key this service holds');
    const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'), body, Buffer.from('\n')]);
    let valid: boolean;
    try {
      valid = verify('sha256', message, key, Buffer.from(signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) throw new VerificationFailed('signature', 'the signature does not verify');
  }
}

/** One header's value; a header sent twice is malformed, as is an empty one. */
function header(headers: HeaderBag, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  if (Array.isArray(value)) return undefined;
  return value === undefined || value === '' ? undefined : value;
}
