import { Injectable, type OnModuleInit } from '@nestjs/common';
import { OaUnionidLookup, type OaUnionidSource } from '../../users/oa-unionid-lookup.js';
import { FollowerRepository } from './follower.repository.js';

/** What other features may read of a follower (never the openid back, never in a response). */
export interface FollowerState {
  subscribed: boolean;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  /** The last message, click, scan or subscription: WeChat's customer-service window runs 48 h from it. */
  lastInteractionAt: Date | null;
  /** From /cgi-bin/user/info at the subscription, if WeChat gave one. */
  unionid: string | null;
  /** The user linked to this follower (same OA openid or unionid), once known. */
  userId: string | null;
}

/**
 * The official account's followers, as the callback records them. Others read them here: web
 * sign-in asks the unionid learned for an OA openid (registered with users' OaUnionidLookup at
 * start-up), messages ask whether a person follows and when they last interacted.
 */
@Injectable()
export class FollowersService implements OaUnionidSource, OnModuleInit {
  constructor(
    private readonly followers: FollowerRepository,
    private readonly unionids: OaUnionidLookup,
  ) {}

  onModuleInit(): void {
    this.unionids.register(this);
  }

  /** The follower of `oaOpenid` as recorded, or null when the callback never heard of them. */
  async find(oaOpenid: string): Promise<FollowerState | null> {
    const row = await this.followers.findByOpenid(oaOpenid);
    if (!row) return null;
    return {
      subscribed: row.subscribed,
      subscribedAt: row.subscribedAt,
      unsubscribedAt: row.unsubscribedAt,
      lastInteractionAt: row.lastInteractionAt,
      unionid: row.unionid,
      userId: row.userId,
    };
  }

  /** The unionid learned for `oaOpenid` when it subscribed (never asks WeChat). */
  async unionidOf(oaOpenid: string): Promise<string | null> {
    return (await this.followers.findByOpenid(oaOpenid))?.unionid ?? null;
  }

  /**
   * Ties the follower of `oaOpenid` (if recorded) to the user who now holds that OA openid: web
   * sign-in calls it when a user gains the identity, so that the user's erasure finds the follower.
   */
  async linkUser(oaOpenid: string, userId: string): Promise<void> {
    await this.followers.update(oaOpenid, { userId }, new Date());
  }

  /** `subscribe`: following (again) from `at`, an interaction too. */
  subscribed(oaOpenid: string, at: Date): Promise<void> {
    const change = { subscribed: true, subscribedAt: at, lastInteractionAt: at };
    return this.followers.upsert(oaOpenid, change, {}, at);
  }

  /** `unsubscribe`: no longer following from `at`. */
  unsubscribed(oaOpenid: string, at: Date): Promise<void> {
    return this.followers.upsert(oaOpenid, { subscribed: false, unsubscribedAt: at }, {}, at);
  }

  /**
   * Any other message or event: the last interaction. Only followers can write to the account, so
   * one not on record yet (followed before this service kept records) is recorded as following.
   */
  interacted(oaOpenid: string, at: Date): Promise<void> {
    return this.followers.upsert(oaOpenid, { lastInteractionAt: at }, { subscribed: true }, at);
  }

  /** What the subscription taught: the unionid from /cgi-bin/user/info, the linked user. */
  async learned(oaOpenid: string, facts: { unionid?: string; userId?: string | null }): Promise<void> {
    const change: { unionid?: string; userId?: string } = {};
    if (facts.unionid) change.unionid = facts.unionid;
    if (facts.userId) change.userId = facts.userId;
    if (Object.keys(change).length > 0) await this.followers.update(oaOpenid, change, new Date());
  }
}
