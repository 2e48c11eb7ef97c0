/** WeChat's own cryptography (WeChat's documentation): encryptedData decryption and the checkSession signature. */
export const WECHAT_CRYPTO = Symbol('WECHAT_CRYPTO');

export interface WechatCrypto {
  /**
   * AES-128-CBC / PKCS#7 with the base64 session key and iv. Returns the parsed object, watermark
   * included. Throws AppError WECHAT_SESSION_KEY_STALE (40104) when it does not decrypt or is not
   * UTF-8 JSON, and WECHAT_APPID_MISMATCH (40002) when `watermark.appid` is missing or not `appId`.
   */
  decryptData(input: {
    encryptedData: string;
    iv: string;
    sessionKey: string;
    appId: string;
  }): Record<string, unknown>;
  /** hex(hmac_sha256(key = session key as its base64 string, message = "")) */
  sessionKeySignature(sessionKey: string): string;
}
