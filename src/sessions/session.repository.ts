import type { Transaction } from '../database/unit-of-work.js';
import type { LoginSessionEntity, RevokeReason } from './login-session.entity.js';

/** One refresh: move the login `id` from the token hashed `from` to the one hashed `to`. */
export interface Rotation {
  id: string;
  from: string;
  to: string;
  at: Date;
}

/** Persistence of login sessions: the port SessionsService's rules run against. */
export abstract class SessionRepository {
  abstract insert(session: LoginSessionEntity): Promise<void>;
  abstract findById(id: string): Promise<LoginSessionEntity | null>;
  /**
   * Compare-and-set of the current refresh-token hash of a live login: true for the rotation that
   * moved it. Of several concurrent rotations from one hash, exactly one wins.
   */
  abstract rotate(rotation: Rotation): Promise<boolean>;
  /** Ends one login if it is still on. */
  abstract revoke(id: string, reason: RevokeReason, at: Date): Promise<void>;
  /**
   * Ends every live login of a user. Returns how many were live, and the ids of every revoked login
   * not yet expired (the ones to drop from caches; read after the update, so none is missed).
   */
  abstract revokeAllForUser(
    userId: string,
    reason: RevokeReason,
    at: Date,
    tx?: Transaction,
  ): Promise<{ revoked: number; revokedIds: string[] }>;
  /** Erasure: IP and user agent of every login of the user. */
  abstract forgetClientDetails(userId: string, tx: Transaction): Promise<void>;
}
