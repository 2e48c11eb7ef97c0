import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type MessageKind = 'subscribe';
export type MessageStatus = 'queued' | 'sent' | 'failed';

/**
 * A subscribe message of the mini-program, from the admin's request to WeChat's answer: the record
 * of what is to be sent (the job queue only wakes the worker that sends it).
 */
@Entity('messages')
@Index('uq_messages_idempotency_key', ['idempotencyKey'], { unique: true })
@Index('ix_messages_status_due', ['status', 'nextAttemptAt'])
@Index('ix_messages_user', ['userId'])
export class MessageEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: MessageKind;

  @Column({ name: 'user_id', ...UUID_COLUMN })
  userId!: string;

  @Column({ name: 'template_id', type: 'varchar', length: 64 })
  templateId!: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 128 })
  idempotencyKey!: string;

  /** SHA-256 (hex) of the request as parsed: the same key with another body is 40901. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash!: string;

  /**
   * What goes to WeChat besides the openid (data, page, miniprogramState, lang) as JSON; `{}` once
   * the user is erased. Never logged, never returned.
   */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: MessageStatus;

  /** Calls to WeChat begun (counted when the worker claims the message). */
  @Column({ type: 'int', default: 0 })
  attempts!: number;

  /** WeChat's last errcode (0 once sent); null before any answer or after none (timeout, 5xx, network). */
  @Column({ name: 'wechat_errcode', type: 'int', nullable: true })
  wechatErrcode!: number | null;

  /** Not before then is the next attempt made (null: at once). */
  @Column({ name: 'next_attempt_at', ...timestamp({ nullable: true }) })
  nextAttemptAt!: Date | null;

  /** The instance sending it now, and until when its claim holds. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', ...timestamp({ nullable: true }) })
  leaseUntil!: Date | null;

  /** The admin who asked for it (null once that admin is erased). */
  @Column({ name: 'actor_id', ...UUID_COLUMN, nullable: true })
  actorId!: string | null;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'sent_at', ...timestamp({ nullable: true }) })
  sentAt!: Date | null;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
