import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

/**
 * One-time subscriptions a user granted for one template (wx.requestSubscribeMessage), as the
 * client reported them: each subscribe message spends one. WeChat stays the authority (43101).
 */
@Entity('subscription_quotas')
export class SubscriptionQuotaEntity {
  @PrimaryColumn({ name: 'user_id', ...UUID_COLUMN })
  userId!: string;

  @PrimaryColumn({ name: 'template_id', type: 'varchar', length: 64 })
  templateId!: string;

  @Column({ type: 'int', default: 0 })
  remaining!: number;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
