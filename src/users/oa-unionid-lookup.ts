import { Injectable } from '@nestjs/common';

/**
 * Where the unionid that WeChat told us for an official-account openid is kept (the follower
 * records, filled from /cgi-bin/user/info when the person subscribed), and who is told which user
 * holds an OA openid. Users sit below the official
 * account in the layers and cannot import it, so the followers' module registers its source here at
 * start-up; without one (the official account off, or before it starts) nothing is known.
 */
export interface OaUnionidSource {
  /** The unionid on record for this OA openid, or null; never calls WeChat. */
  unionidOf(oaOpenid: string): Promise<string | null>;
  /** The user who now holds this OA openid (web sign-in): its record, if any, is theirs. */
  linkUser(oaOpenid: string, userId: string): Promise<void>;
}

@Injectable()
export class OaUnionidLookup implements OaUnionidSource {
  private source: OaUnionidSource | null = null;

  register(source: OaUnionidSource): void {
    this.source = source;
  }

  async unionidOf(oaOpenid: string): Promise<string | null> {
    return this.source ? this.source.unionidOf(oaOpenid) : null;
  }

  async linkUser(oaOpenid: string, userId: string): Promise<void> {
    await this.source?.linkUser(oaOpenid, userId);
  }
}
