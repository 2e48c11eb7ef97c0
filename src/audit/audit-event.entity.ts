import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type AuditEventType =
  | 'login'
  | 'login_refused'
  | 'user_created'
  | 'refresh'
  | 'refresh_reuse'
  | 'logout'
  | 'phone_bound'
  | 'role_changed'
  | 'status_changed'
  | 'user_erased'
  // Identities: a web sign-in (official account), and an openid gained through the unionid.
  | 'oauth_login'
  | 'identity_linked'
  // Messages: a subscribe message queued by an admin and sent by the worker; OA messages sent.
  | 'subscribe_message_queued'
  | 'subscribe_message_sent'
  | 'template_message_sent'
  | 'cs_message_sent'
  // The shop: one per change of an order's state, or per refused payment notification.
  | 'order_created'
  | 'order_paid'
  | 'order_cancelled'
  | 'order_expired'
  | 'order_shipped'
  | 'order_completed'
  | 'refund_requested'
  | 'refund_succeeded'
  | 'refund_failed'
  | 'notify_rejected'
  // The official account's menu, set by an admin.
  | 'menu_set'
  // The official account's keyword rules (admin).
  | 'auto_reply_created'
  | 'auto_reply_changed'
  | 'auto_reply_deleted';

/** Security events. Never a secret, token, openid or phone number in `detail`. */
@Entity('audit_events')
@Index('ix_audit_events_user_time', ['userId', 'createdAt'])
@Index('ix_audit_events_order_time', ['orderId', 'createdAt'])
export class AuditEventEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  event!: AuditEventType;

  @Column({ name: 'user_id', ...UUID_COLUMN, nullable: true })
  userId!: string | null;

  @Column({ name: 'actor_id', ...UUID_COLUMN, nullable: true })
  actorId!: string | null;

  @Column({ name: 'session_id', ...UUID_COLUMN, nullable: true })
  sessionId!: string | null;

  /** The order an entry is about: its events (GET /admin/orders/:id). */
  @Column({ name: 'order_id', ...UUID_COLUMN, nullable: true })
  orderId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  detail!: string | null;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;
}
