import { Injectable } from '@nestjs/common';
import { HandlesOfficialMessages, type OfficialMessageHandler } from '../callback/message-handlers.js';
import type { OfficialMessage, OfficialReply } from '../callback/official-message.js';
import { FollowersService } from '../followers/followers.service.js';

/** `unsubscribe`: the follower no longer follows (unsubscribedAt); nothing can be sent to them. */
@Injectable()
@HandlesOfficialMessages({ msgType: 'event', event: 'unsubscribe' })
export class UnsubscribeHandler implements OfficialMessageHandler {
  constructor(private readonly followers: FollowersService) {}

  async handle(message: OfficialMessage): Promise<OfficialReply | null> {
    if (message.fromUserName) await this.followers.unsubscribed(message.fromUserName, new Date());
    return null;
  }
}
