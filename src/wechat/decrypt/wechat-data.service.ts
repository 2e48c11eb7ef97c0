import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AppConfig } from '../../config/app-config.js';
import { SessionKeysService } from '../../users/session-keys.service.js';
import { WECHAT_CRYPTO, type WechatCrypto } from '../wechat-crypto.port.js';

/** Identifiers WeChat puts in decrypted data that the contract never lets out. */
const WITHHELD = new Set(['watermark', 'openId', 'unionId', 'openid', 'unionid']);

@Injectable()
export class WechatDataService {
  private readonly appId: string;

  constructor(
    @Inject(WECHAT_CRYPTO) private readonly crypto: WechatCrypto,
    private readonly sessionKeys: SessionKeysService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.appId = config.get('wechat', { infer: true }).appId;
  }

  /** Decrypts with the session key of the user's latest login; a stale key is the client's cue to wx.login. */
  async decryptForUser(userId: string, encryptedData: string, iv: string): Promise<Record<string, unknown>> {
    const sessionKey = await this.sessionKeys.get(userId);
    if (!sessionKey) throw new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
    const plain = this.crypto.decryptData({ encryptedData, iv, sessionKey, appId: this.appId });
    return Object.fromEntries(Object.entries(plain).filter(([key]) => !WITHHELD.has(key)));
  }
}
