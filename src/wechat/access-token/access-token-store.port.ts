/**
 * Where the WeChat access token lives, shared by every caller that can reach the store: the
 * process (memory) or every instance (Redis). All operations are atomic in the store.
 */
export const ACCESS_TOKEN_STORE = Symbol('ACCESS_TOKEN_STORE');

export interface CachedAccessToken {
  token: string;
  /** epoch ms after which a fresh one should be fetched (before WeChat's own expiry). */
  refreshAt: number;
}

export interface AccessTokenStore {
  get(): Promise<CachedAccessToken | null>;
  /** Stores the token and wakes every waiter, here and on other instances. */
  set(token: CachedAccessToken): Promise<void>;
  /**
   * Drops the cached token only if it is still `token` (another caller may have stored a newer one),
   * and remembers `token` as refused, for whoever fetches next on any instance (see wasRefused).
   */
  dropIfCurrent(token: string): Promise<void>;
  /**
   * Whether WeChat refused `token` (dropIfCurrent was called with it): a fetch that gets it back
   * must not store it, even when the fetcher itself did not see it fail.
   */
  wasRefused(token: string): Promise<boolean>;
  /** One fetcher at a time: true when `owner` now holds the lock, which expires after `ttlMs`. */
  tryLock(owner: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock only if `owner` still holds it. */
  unlock(owner: string): Promise<void>;
  /** Resolves as soon as a token is stored (or after `timeoutMs` with null). */
  waitForToken(timeoutMs: number): Promise<CachedAccessToken | null>;
  /** force_refresh is allowed once per `intervalMs` across all callers: true when this caller may. */
  tryClaimForceRefresh(intervalMs: number): Promise<boolean>;
}
