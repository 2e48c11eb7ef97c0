import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type RefundStatus = 'processing' | 'succeeded' | 'closed' | 'abnormal' | 'failed';

@Entity('refunds')
@Index('uq_refunds_out_refund_no', ['outRefundNo'], { unique: true })
@Index('ix_refunds_order_created', ['orderId', 'createdAt'])
@Index('ix_refunds_status_next_query', ['status', 'nextQueryAt'])
export class RefundEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Column({ name: 'order_id', ...UUID_COLUMN })
  orderId!: string;

  /** Same form as outTradeNo. */
  @Column({ name: 'out_refund_no', type: 'varchar', length: 32 })
  outRefundNo!: string;

  /** Fen. */
  @Column({ type: 'int' })
  amount!: number;

  @Column({ type: 'varchar', length: 80 })
  reason!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RefundStatus;

  /** WeChat Pay's refund_id, once known. */
  @Column({ name: 'refund_id', type: 'varchar', length: 64, nullable: true })
  refundId!: string | null;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'completed_at', ...timestamp({ nullable: true }) })
  completedAt!: Date | null;

  /** While processing: when the refund is next queried at WeChat Pay. */
  @Column({ name: 'next_query_at', ...timestamp({ nullable: true }) })
  nextQueryAt!: Date | null;
}
