/**
 * WeChat's cryptography from the client's side, for tests: what WeChat computes and hands to a
 * mini-program (session keys, encryptedData blocks, the checkSession signature), so a test can play
 * the mini-program against the service and the fake WeChat can check what the service sends.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

/** hex(hmac_sha256(key = session key as its base64 string, message = "")) */
export function sessionKeySignature(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('').digest('hex');
}

/** A random session key (16 bytes, base64), like WeChat's. */
export function randomSessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** AES-128-CBC / PKCS#7 of raw bytes with a base64 key and iv; returns base64. */
export function encryptRaw(plaintext: Buffer | string, sessionKey: string, iv: string): string {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

export interface EncryptOptions {
  /** base64 of 16 bytes; random when omitted. */
  iv?: string;
  /** watermark.appid; `null` leaves the watermark out. */
  appId?: string | null;
  timestamp?: number;
}

/**
 * Builds a WeChat `encryptedData` block as wx.getUserInfo & co. hand it to the client: the JSON of
 * `data` plus `watermark: {timestamp, appid}`, AES-128-CBC / PKCS#7 with the session key.
 */
export function encryptWechatData(
  data: Record<string, unknown>,
  sessionKey: string,
  options: EncryptOptions & { appId: string | null },
): { encryptedData: string; iv: string } {
  const iv = options.iv ?? randomBytes(16).toString('base64');
  const payload: Record<string, unknown> = { ...data };
  if (options.appId !== null) {
    payload.watermark = {
      timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
      appid: options.appId,
    };
  }
  return { encryptedData: encryptRaw(JSON.stringify(payload), sessionKey, iv), iv };
}
