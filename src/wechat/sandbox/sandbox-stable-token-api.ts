import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { wechatConfig, type WechatSlice } from '../../config/config.slices.js';
import { StableTokenApi, type StableToken } from '../access-token/stable-token-api.port.js';

/** WeChat's full lifetime of a stable token. */
const LIFETIME_S = 7200;

/**
 * The sandbox's stable_token (WECHAT_MODE=sandbox): in process and deterministic, so that the token
 * path needs no WeChat and no network. The same app id gets the same token until a force_refresh
 * moves it on, as WeChat does.
 */
@Injectable()
export class SandboxStableTokenApi extends StableTokenApi {
  private generation = 0;

  constructor(@Inject(wechatConfig.KEY) private readonly wechat: Pick<WechatSlice, 'appId'>) {
    super();
  }

  fetchStableToken({ forceRefresh }: { forceRefresh: boolean }): Promise<StableToken> {
    if (forceRefresh) this.generation++;
    const digest = createHash('sha256').update(`access_token:${this.wechat.appId}:${this.generation}`);
    return Promise.resolve({
      accessToken: `sbx_at_${digest.digest('hex').slice(0, 32)}`,
      expiresIn: LIFETIME_S,
    });
  }
}
