/**
 * Per-instance cache of session liveness, read on every authenticated request. Every revocation
 * goes through SessionsService, which clears the entry; the Redis-backed version (several
 * instances) will also broadcast the clearing.
 */
export const SESSION_CACHE = Symbol('SESSION_CACHE');

export interface CachedSession {
  userId: string;
  /** epoch ms of the login's absolute end */
  expiresAt: number;
  live: boolean;
}

export interface SessionCache {
  get(sessionId: string): CachedSession | undefined;
  set(sessionId: string, state: CachedSession): void;
  delete(sessionIds: readonly string[]): void;
}
