import { createDecipheriv, createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { WechatCrypto } from '../wechat-crypto.port.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** WeChat's documentation: AES-128-CBC / PKCS#7 with the session key, and the checkSession HMAC. */
@Injectable()
export class NodeWechatCrypto implements WechatCrypto {
  decryptData(input: {
    encryptedData: string;
    iv: string;
    sessionKey: string;
    appId: string;
  }): Record<string, unknown> {
    const key = Buffer.from(input.sessionKey, 'base64');
    const iv = Buffer.from(input.iv, 'base64');
    let data: unknown;
    try {
      if (key.length !== 16 || iv.length !== 16) throw new Error('bad key or iv length');
      const decipher = createDecipheriv('aes-128-cbc', key, iv);
      const plain = Buffer.concat([
        decipher.update(Buffer.from(input.encryptedData, 'base64')),
        decipher.final(),
      ]);
      data = JSON.parse(strictUtf8.decode(plain));
    } catch {
      // A padding or JSON failure almost always means the data predates the session key: the
      // client fetched it before a fresh wx.login (WeChat's documentation), hence "log in again".
      throw new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
    }
    const object = data as Record<string, unknown>;
    const watermark = object.watermark as { appid?: unknown } | undefined;
    if (!watermark || typeof watermark !== 'object' || watermark.appid !== input.appId) {
      throw new AppError(ErrorCode.WECHAT_APPID_MISMATCH);
    }
    return object;
  }

  sessionKeySignature(sessionKey: string): string {
    // The key is the session key's base64 text itself, not its decoded bytes (WeChat's documentation).
    return createHmac('sha256', sessionKey).update('').digest('hex');
  }
}
