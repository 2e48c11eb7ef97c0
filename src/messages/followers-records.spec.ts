import type { FollowersService, FollowerState } from '../official-account/followers/followers.service.js';
import { FollowersServiceRecords } from './followers-records.js';

const state = (subscribed: boolean): FollowerState => ({
  subscribed,
  subscribedAt: null,
  unsubscribedAt: subscribed ? null : new Date(),
  lastInteractionAt: null,
  unionid: null,
  userId: null,
});

describe('FollowersServiceRecords', () => {
  it('says unsubscribed only for a follower on record who no longer follows', async () => {
    const known = new Map([
      ['oa_following', state(true)],
      ['oa_left', state(false)],
    ]);
    const records = new FollowersServiceRecords({
      find: (openid: string) => Promise.resolve(known.get(openid) ?? null),
    } as unknown as FollowersService);
    expect(await records.unsubscribedOnRecord('oa_following')).toBe(false);
    expect(await records.unsubscribedOnRecord('oa_left')).toBe(true);
    // Not on record: WeChat decides (43004).
    expect(await records.unsubscribedOnRecord('oa_unknown')).toBe(false);
  });
});
