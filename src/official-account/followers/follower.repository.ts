import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation, ReportsOutages } from '../../database/db-errors.js';
import { managerOf, type Transaction } from '../../database/unit-of-work.js';
import { FollowerEntity } from './follower.entity.js';

/** The columns a change may set (the openid and the row's own times are the repository's). */
export type FollowerFields = Partial<
  Pick<
    FollowerEntity,
    'unionid' | 'subscribed' | 'subscribedAt' | 'unsubscribedAt' | 'lastInteractionAt' | 'userId'
  >
>;

export abstract class FollowerRepository {
  abstract findByOpenid(openid: string): Promise<FollowerEntity | null>;
  /**
   * Applies `change` to the follower of `openid`, making the row first (with `whenNew` as well)
   * if there is none; two first messages at once make one row.
   */
  abstract upsert(openid: string, change: FollowerFields, whenNew: FollowerFields, now: Date): Promise<void>;
  /** Sets `change` on an existing follower; false when there is none. */
  abstract update(openid: string, change: FollowerFields, now: Date): Promise<boolean>;
  /** Erasure: the followers linked to the user. */
  abstract deleteByUser(userId: string, tx: Transaction): Promise<void>;
}

@Injectable()
@ReportsOutages()
export class TypeormFollowerRepository extends FollowerRepository {
  constructor(@InjectRepository(FollowerEntity) private readonly followers: Repository<FollowerEntity>) {
    super();
  }

  findByOpenid(openid: string): Promise<FollowerEntity | null> {
    return this.followers.findOneBy({ openid });
  }

  async upsert(openid: string, change: FollowerFields, whenNew: FollowerFields, now: Date): Promise<void> {
    if (await this.update(openid, change, now)) return;
    const row: FollowerEntity = {
      id: randomUUID(),
      openid,
      unionid: null,
      subscribed: false,
      subscribedAt: null,
      unsubscribedAt: null,
      lastInteractionAt: null,
      userId: null,
      ...whenNew,
      ...change,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.followers.insert(row);
    } catch (error) {
      // Another message of the same person made the row first: this change applies to it.
      if (!isUniqueViolation(error)) throw error;
      await this.update(openid, change, now);
    }
  }

  async update(openid: string, change: FollowerFields, now: Date): Promise<boolean> {
    const result = await this.followers.update({ openid }, { ...change, updatedAt: now });
    return result.affected !== 0;
  }

  async deleteByUser(userId: string, tx: Transaction): Promise<void> {
    await managerOf(tx, this.followers.manager).delete(FollowerEntity, { userId });
  }
}
