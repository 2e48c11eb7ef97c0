import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../database/columns.js';

export type RevokeReason = 'logout' | 'logout_all' | 'reuse' | 'disabled' | 'erased';

/** One login (the JWT `sid`): its current refresh token, by hash only, and how it ended. */
@Entity('login_sessions')
export class LoginSessionEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Index('ix_login_sessions_user')
  @Column({ name: 'user_id', ...UUID_COLUMN })
  userId!: string;

  /** SHA-256 (hex) of the refresh token currently valid for this login. */
  @Column({ name: 'refresh_token_hash', type: 'varchar', length: 64 })
  refreshTokenHash!: string;

  /** How many times the refresh token rotated; tokens carry it, so an older one means reuse. */
  @Column({ type: 'integer', default: 0 })
  generation!: number;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'last_used_at', ...timestamp() })
  lastUsedAt!: Date;

  /** Absolute end (JWT_REFRESH_TTL after login); rotation never extends it. */
  @Column({ name: 'expires_at', ...timestamp() })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', ...timestamp({ nullable: true }) })
  revokedAt!: Date | null;

  @Column({ name: 'revoke_reason', type: 'varchar', length: 16, nullable: true })
  revokeReason!: RevokeReason | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;
}
