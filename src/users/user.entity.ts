import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type UserRole = 'user' | 'admin';
/** `erased` rows stay (anonymous) so audit entries still resolve; they are invisible through the API. */
export type UserStatus = 'active' | 'disabled' | 'erased';

@Entity('users')
export class UserEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  /**
   * The mini-program (MP) identity, from wx.login: the column kept its v1 name so existing rows and
   * code read it unchanged. null once erased, so the same WeChat user logging in later becomes a new
   * user. Identities are never moved from one user to another.
   */
  @Index('uq_users_openid', { unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  openid!: string | null;

  /** The official-account (OA) identity, from web sign-in or from following the OA; never returned. */
  @Index('uq_users_oa_openid', { unique: true })
  @Column({ name: 'oa_openid', type: 'varchar', length: 64, nullable: true })
  oaOpenid!: string | null;

  /** The same person across the apps of one WeChat open platform account; one user at most. */
  @Index('uq_users_unionid', { unique: true })
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
