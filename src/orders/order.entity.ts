import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';
import type { OrderStatus } from './order-state.js';

export type CancelReason = 'user' | 'expired';

@Entity('orders')
@Index('uq_orders_out_trade_no', ['outTradeNo'], { unique: true })
@Index('uq_orders_user_idempotency', ['userId', 'idempotencyKey'], { unique: true })
@Index('ix_orders_user_created', ['userId', 'createdAt'])
@Index('ix_orders_status_created', ['status', 'createdAt'])
@Index('ix_orders_status_expires', ['status', 'expiresAt'])
export class OrderEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  /** 32 digits: Beijing time yyyyMMddHHmmssSSS + 15 random digits (out-trade-no.ts). */
  @Column({ name: 'out_trade_no', type: 'varchar', length: 32 })
  outTradeNo!: string;

  @Column({ name: 'user_id', ...UUID_COLUMN })
  userId!: string;

  @Column({ type: 'varchar', length: 24 })
  status!: OrderStatus;

  /** Integer fen, as every amount. */
  @Column({ name: 'total_amount', type: 'int' })
  totalAmount!: number;

  @Column({ name: 'refunded_amount', type: 'int', default: 0 })
  refundedAmount!: number;

  @Column({ type: 'varchar', length: 3, default: 'CNY' })
  currency!: 'CNY';

  /** The wx.chooseAddress fields as JSON, AES-256-GCM with DATA_ENCRYPTION_KEY; null when none. */
  @Column({ name: 'shipping_address_encrypted', type: 'text', nullable: true })
  shippingAddressEncrypted!: string | null;

  @Column({ name: 'transaction_id', type: 'varchar', length: 64, nullable: true })
  transactionId!: string | null;

  @Column({ name: 'tracking_no', type: 'varchar', length: 64, nullable: true })
  trackingNo!: string | null;

  @Column({ name: 'cancel_reason', type: 'varchar', length: 16, nullable: true })
  cancelReason!: CancelReason | null;

  @Column({ name: 'prepay_id', type: 'varchar', length: 64, nullable: true })
  prepayId!: string | null;

  /** When WeChat Pay answered the prepay whose id is kept (it lives 2 h). */
  @Column({ name: 'prepay_created_at', ...timestamp({ nullable: true }) })
  prepayCreatedAt!: Date | null;

  /**
   * Set before the first prepay request leaves: from then on WeChat Pay may know the order, so a
   * cancel or an expiry must close and query it there, even if that request never answered.
   */
  @Column({ name: 'prepay_requested_at', ...timestamp({ nullable: true }) })
  prepayRequestedAt!: Date | null;

  @Column({ name: 'expires_at', ...timestamp() })
  expiresAt!: Date;

  /** WeChat Pay's success_time. */
  @Column({ name: 'paid_at', ...timestamp({ nullable: true }) })
  paidAt!: Date | null;

  @Column({ name: 'shipped_at', ...timestamp({ nullable: true }) })
  shippedAt!: Date | null;

  @Column({ name: 'completed_at', ...timestamp({ nullable: true }) })
  completedAt!: Date | null;

  @Column({ name: 'cancelled_at', ...timestamp({ nullable: true }) })
  cancelledAt!: Date | null;

  /** Where a `refunding` order returns when its refunds end short of the total. */
  @Column({ name: 'status_before_refunding', type: 'varchar', length: 24, nullable: true })
  statusBeforeRefunding!: OrderStatus | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey!: string;

  /** SHA-256 (hex) of the request's items as parsed, in order: a replay with other items is 40901. */
  @Column({ name: 'items_fingerprint', type: 'varchar', length: 64 })
  itemsFingerprint!: string;

  /** The instance settling this overdue order (expiry), and until when the lease holds. */
  @Column({ name: 'settle_lease_owner', type: 'varchar', length: 64, nullable: true })
  settleLeaseOwner!: string | null;

  @Column({ name: 'settle_lease_until', ...timestamp({ nullable: true }) })
  settleLeaseUntil!: Date | null;

  /** Not before then is an overdue order tried again after WeChat Pay could not settle it. */
  @Column({ name: 'settle_next_attempt_at', ...timestamp({ nullable: true }) })
  settleNextAttemptAt!: Date | null;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
