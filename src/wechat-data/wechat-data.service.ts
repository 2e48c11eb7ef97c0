import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { exceededBound } from '../common/validation/json-bounds.js';
import { wechatConfig } from '../config/config.slices.js';
import { SessionKeysService } from '../session-keys/session-keys.service.js';
import { WECHAT_CRYPTO, type WechatCrypto } from '../wechat/wechat-crypto.port.js';

/**
 * WeChat's decrypted data (user info, run data, share info) is a few levels deep. Deeper data is not
 * WeChat's: refused before it reaches the serialiser, whose recursion overflowed at 20,000 levels.
 * The values bound only keeps the walk finite: 64 KiB of base64 cannot hold more.
 */
const DECRYPTED_BOUNDS = { maxValues: 100_000, maxDepth: 64 };

/** Identifiers WeChat puts in decrypted data that the contract never lets out. */
const WITHHELD = new Set(['watermark', 'openId', 'unionId', 'openid', 'unionid']);

@Injectable()
export class WechatDataService {
  private readonly appId: string;

  constructor(
    @Inject(WECHAT_CRYPTO) private readonly crypto: WechatCrypto,
    private readonly sessionKeys: SessionKeysService,
    @Inject(wechatConfig.KEY) wechat: ConfigType<typeof wechatConfig>,
  ) {
    this.appId = wechat.appId;
  }

  /** Decrypts with the session key of the user's latest login; a stale key is the client's cue to wx.login. */
  async decryptForUser(userId: string, encryptedData: string, iv: string): Promise<Record<string, unknown>> {
    const sessionKey = await this.sessionKeys.get(userId);
    if (!sessionKey) throw new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
    const plain = this.crypto.decryptData({ encryptedData, iv, sessionKey, appId: this.appId });
    if (exceededBound(plain, DECRYPTED_BOUNDS) !== null) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', {
        data: { errors: [{ field: 'encryptedData', message: 'decrypts to data nested too deeply' }] },
      });
    }
    return Object.fromEntries(Object.entries(plain).filter(([key]) => !WITHHELD.has(key)));
  }
}
