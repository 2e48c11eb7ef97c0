import { createHash, randomInt } from 'node:crypto';

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NONCE_LENGTH = 16;

/**
 * The JS-SDK signature as WeChat computes it: hex sha1 of
 * `jsapi_ticket=T&noncestr=N&timestamp=S&url=U`, keys in that order and lower case, values raw (no
 * encoding of any kind), `url` exactly as the page has it.
 */
export function jssdkSignature(input: {
  ticket: string;
  nonceStr: string;
  timestamp: number;
  url: string;
}): string {
  const text = `jsapi_ticket=${input.ticket}&noncestr=${input.nonceStr}&timestamp=${input.timestamp}&url=${input.url}`;
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** 16 characters of A-Za-z0-9 from the CSPRNG, without modulo bias (randomInt draws uniformly). */
export function newNonceStr(): string {
  let nonce = '';
  for (let i = 0; i < NONCE_LENGTH; i++) nonce += NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)];
  return nonce;
}
