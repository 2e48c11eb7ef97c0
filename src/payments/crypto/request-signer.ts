import { sign, type KeyObject } from 'node:crypto';
import { randomAlphanumeric, systemClock, unixSeconds, type Clock } from './nonce-and-clock.js';

export const AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';

/** Base64 SHA256withRSA (PKCS#1 v1.5): what every WeChat Pay signature is. */
export function rsaSign(privateKey: KeyObject, message: string | Buffer): string {
  return sign(
    'sha256',
    typeof message === 'string' ? Buffer.from(message, 'utf8') : message,
    privateKey,
  ).toString('base64');
}

/** The `Authorization` header of a request to WeChat Pay. */
export interface RequestSigner {
  /** `pathAndQuery`: the URL without scheme and host; `body`: the exact text sent ('' for none). */
  authorization(method: string, pathAndQuery: string, body: string): string;
}

/**
 * Signs with the merchant API private key over `METHOD\nPATH_AND_QUERY\ntimestamp\nnonce\nbody\n`,
 * a fresh timestamp and nonce each call. The header is a credential for that one request: never
 * logged.
 */
export class RsaRequestSigner implements RequestSigner {
  constructor(
    private readonly merchant: { mchid: string; serial: string; privateKey: KeyObject },
    private readonly clock: Clock = systemClock,
  ) {}

  authorization(method: string, pathAndQuery: string, body: string): string {
    const timestamp = String(unixSeconds(this.clock));
    const nonce = randomAlphanumeric(32);
    const signature = this.signature(method, pathAndQuery, timestamp, nonce, body);
    const { mchid, serial } = this.merchant;
    return `${AUTH_SCHEMA} mchid="${mchid}",nonce_str="${nonce}",timestamp="${timestamp}",serial_no="${serial}",signature="${signature}"`;
  }

  signature(method: string, pathAndQuery: string, timestamp: string, nonce: string, body: string): string {
    return rsaSign(this.merchant.privateKey, `${method}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`);
  }
}
