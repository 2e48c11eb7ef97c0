import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { exceededBound } from '../common/validation/json-bounds.js';
import { wechatConfig } from '../config/config.slices.js';
import { SessionKeysService } from '../session-keys/session-keys.service.js';
import { UsersService } from '../users/users.service.js';
import { WECHAT_CLIENT, type WechatClient } from '../wechat/wechat-client.port.js';
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
  private readonly logger = new Logger('WechatData');
  private readonly appId: string;

  constructor(
    @Inject(WECHAT_CRYPTO) private readonly crypto: WechatCrypto,
    @Inject(WECHAT_CLIENT) private readonly wechatClient: WechatClient,
    private readonly sessionKeys: SessionKeysService,
    private readonly users: UsersService,
    @Inject(wechatConfig.KEY) wechat: ConfigType<typeof wechatConfig>,
  ) {
    this.appId = wechat.appId;
  }

  /**
   * Decrypts with the session key of the user's latest login. Data that does not decrypt is either
   * older than that login (the key WeChat holds is still ours: 40003, fetch the data again) or meets
   * a key WeChat has moved on from (40104, wx.login again): WeChat's checksession tells them apart.
   */
  async decryptForUser(userId: string, encryptedData: string, iv: string): Promise<Record<string, unknown>> {
    const sessionKey = await this.sessionKeys.get(userId);
    // No key (a user who only signed in on the web), no call to WeChat.
    if (!sessionKey) throw new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
    let plain: Record<string, unknown>;
    try {
      plain = this.crypto.decryptData({ encryptedData, iv, sessionKey, appId: this.appId });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.WECHAT_SESSION_KEY_STALE) {
        throw await this.undecryptable(userId, sessionKey);
      }
      throw error;
    }
    if (exceededBound(plain, DECRYPTED_BOUNDS) !== null) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', {
        data: { errors: [{ field: 'encryptedData', message: 'decrypts to data nested too deeply' }] },
      });
    }
    return Object.fromEntries(Object.entries(plain).filter(([key]) => !WITHHELD.has(key)));
  }

  /**
   * checksession about the stored key: current (errcode 0) → 40003; stale (87009) → 40104; any other
   * outcome (timeout, open breaker, another errcode, no mini-program openid) → 40104 as well, the
   * answer that is never wrong to act on (a fresh wx.login).
   */
  private async undecryptable(userId: string, sessionKey: string): Promise<AppError> {
    try {
      const openid = (await this.users.getVisible(userId)).openid;
      if (openid && (await this.wechatClient.checkSessionKey(openid, sessionKey))) {
        return new AppError(ErrorCode.WECHAT_DATA_NOT_CURRENT);
      }
    } catch (error) {
      this.logger.warn(`checksession gave no answer (${(error as Error).message}): answered as a stale key`);
    }
    return new AppError(ErrorCode.WECHAT_SESSION_KEY_STALE);
  }
}
