import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type UserRole = 'user' | 'admin';
/** `erased` rows stay (anonymous) so audit entries still resolve; they are invisible through the API. */
export type UserStatus = 'active' | 'disabled' | 'erased';

@Entity('users')
export class UserEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  /** null once erased, so the same WeChat user logging in later becomes a new user. */
  @Index('uq_users_openid', { unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  openid!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  unionid!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  nickname!: string | null;

  @Column({ name: 'avatar_url', type: 'varchar', length: 1024, nullable: true })
  avatarUrl!: string | null;

  @Column({ type: 'smallint', default: 0 })
  gender!: number;

  /** AES-256-GCM with DATA_ENCRYPTION_KEY (security/data-cipher.ts). */
  @Column({ name: 'phone_encrypted', type: 'varchar', length: 255, nullable: true })
  phoneEncrypted!: string | null;

  /** Kept beside the ciphertext so reads never need the key: `138****8000`. */
  @Column({ name: 'phone_masked', type: 'varchar', length: 32, nullable: true })
  phoneMasked!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role!: UserRole;

  @Index('ix_users_status_created')
  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: UserStatus;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;

  @Column({ name: 'erased_at', ...timestamp({ nullable: true }) })
  erasedAt!: Date | null;
}
