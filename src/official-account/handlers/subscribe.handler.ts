import { Inject, Injectable, Logger } from '@nestjs/common';
import { UsersService } from '../../users/users.service.js';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
} from '../../wechat/official-account-client.port.js';
import { failure } from '../callback/official-callback.service.js';
import { HandlesOfficialMessages, type OfficialMessageHandler } from '../callback/message-handlers.js';
import type { OfficialMessage, OfficialReply } from '../callback/official-message.js';
import { FollowersService } from '../followers/followers.service.js';
import { OFFICIAL_ACCOUNT_SETTINGS, type OfficialAccountSettings } from '../official-account-settings.js';

/**
 * `subscribe` (also by a parameter QR code, EventKey `qrscene_…`): the follower is recorded as
 * following again, its unionid asked of /cgi-bin/user/info, and it is linked to the user holding
 * the same OA openid or unionid. Neither the WeChat call nor the linking can stop the welcome.
 */
@Injectable()
@HandlesOfficialMessages({ msgType: 'event', event: 'subscribe' })
export class SubscribeHandler implements OfficialMessageHandler {
  private readonly logger = new Logger('OfficialCallback');

  constructor(
    private readonly followers: FollowersService,
    private readonly users: UsersService,
    @Inject(WECHAT_OFFICIAL_CLIENT) private readonly client: OfficialAccountClient | null,
    @Inject(OFFICIAL_ACCOUNT_SETTINGS) private readonly settings: OfficialAccountSettings,
  ) {}

  async handle(message: OfficialMessage): Promise<OfficialReply | null> {
    const openid = message.fromUserName;
    if (openid) {
      await this.followers.subscribed(openid, new Date());
      const unionid = await this.unionidOf(openid);
      let userId: string | null = null;
      try {
        userId = await this.users.linkFollower(openid, unionid);
      } catch (error) {
        this.logger.warn(`subscribe: follower not linked to a user: ${failure(error)}`);
      }
      await this.followers.learned(openid, { unionid, userId });
    }
    return this.settings.welcomeText ? { text: this.settings.welcomeText } : null;
  }

  private async unionidOf(openid: string): Promise<string | undefined> {
    if (!this.client) return undefined;
    try {
      return (await this.client.getFollower(openid)).unionid || undefined;
    } catch (error) {
      this.logger.warn(`subscribe: /cgi-bin/user/info failed: ${failure(error)}`);
      return undefined;
    }
  }
}
