import { createHash } from 'node:crypto';
import { StableTokenApi, type StableToken } from '../access-token/stable-token-api.port.js';

/** WeChat's full lifetime of a stable token. */
const LIFETIME_S = 7200;

/**
 * The sandbox's stable_token (WECHAT_MODE=sandbox): in process and deterministic, so that the token
 * path needs no WeChat and no network. The same app id gets the same token until a force_refresh
 * moves it on, as WeChat does. One instance per app (the mini-program's, the official account's).
 */
export class SandboxStableTokenApi extends StableTokenApi {
  private generation = 0;

  constructor(private readonly wechat: { appId: string }) {
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
