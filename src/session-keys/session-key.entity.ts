import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

/** The WeChat session key of a user's latest login, encrypted at rest (needed to decrypt WeChat data). */
@Entity('wechat_session_keys')
export class SessionKeyEntity {
  @PrimaryColumn({ name: 'user_id', ...UUID_COLUMN })
  userId!: string;

  @Column({ name: 'session_key_encrypted', type: 'varchar', length: 255 })
  sessionKeyEncrypted!: string;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
