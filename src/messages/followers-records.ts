import { Injectable } from '@nestjs/common';
import { FollowersService } from '../official-account/followers/followers.service.js';
import { FollowerRecords } from './follower-records.js';

/** The follower records the official account's callback keeps (FollowersService). */
@Injectable()
export class FollowersServiceRecords extends FollowerRecords {
  constructor(private readonly followers: FollowersService) {
    super();
  }

  /** On record and not following: the last event the callback saw from them was `unsubscribe`. */
  async unsubscribedOnRecord(oaOpenid: string): Promise<boolean> {
    const follower = await this.followers.find(oaOpenid);
    return follower !== null && !follower.subscribed;
  }
}
