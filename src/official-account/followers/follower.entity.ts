import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../../database/columns.js';

/**
 * A person who follows (or followed) the official account, as its callback told us. Never in a
 * response: the openid and unionid are identities, the rest is read by the services that need it
 * (the customer-service window, web sign-in's unionid on record).
 */
@Entity('oa_followers')
export class FollowerEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  /** The person's openid in the official account. */
  @Index('uq_oa_followers_openid', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  openid!: string;

  /** From /cgi-bin/user/info when the person subscribed; null when WeChat gave none. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  unionid!: string | null;

  @Column({ type: 'boolean' })
  subscribed!: boolean;

  @Column({ name: 'subscribed_at', ...timestamp({ nullable: true }) })
  subscribedAt!: Date | null;

  @Column({ name: 'unsubscribed_at', ...timestamp({ nullable: true }) })
  unsubscribedAt!: Date | null;

  /** The last message, click, scan or subscription: opens WeChat's 48-hour customer-service window. */
  @Column({ name: 'last_interaction_at', ...timestamp({ nullable: true }) })
  lastInteractionAt!: Date | null;

  /** The user holding this OA openid or the same unionid, once one is known. */
  @Index('ix_oa_followers_user')
  @Column({ name: 'user_id', ...UUID_COLUMN, nullable: true })
  userId!: string | null;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
