import { EventEmitter, once } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { AccessTokenStore, CachedAccessToken } from './access-token-store.port.js';

/** One instance: the token, the lock and the force_refresh stamp in process memory. */
@Injectable()
export class MemoryAccessTokenStore implements AccessTokenStore {
  private token: CachedAccessToken | null = null;
  private lock: { owner: string; until: number } | null = null;
  private lastForceAt = -Infinity;
  private refused: string | null = null;
  private readonly stored = new EventEmitter().setMaxListeners(0);

  constructor(private readonly now: () => number = Date.now) {}

  get(): Promise<CachedAccessToken | null> {
    return Promise.resolve(this.token);
  }

  set(token: CachedAccessToken): Promise<void> {
    this.token = token;
    this.stored.emit('token', token);
    return Promise.resolve();
  }

  dropIfCurrent(token: string): Promise<void> {
    if (this.token?.token === token) this.token = null;
    this.refused = token;
    return Promise.resolve();
  }

  wasRefused(token: string): Promise<boolean> {
    return Promise.resolve(this.refused === token);
  }

  tryLock(owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if (this.lock && this.lock.until > now && this.lock.owner !== owner) return Promise.resolve(false);
    this.lock = { owner, until: now + ttlMs };
    return Promise.resolve(true);
  }

  unlock(owner: string): Promise<void> {
    if (this.lock?.owner === owner) this.lock = null;
    return Promise.resolve();
  }

  async waitForToken(timeoutMs: number): Promise<CachedAccessToken | null> {
    try {
      const [token] = (await once(this.stored, 'token', { signal: AbortSignal.timeout(timeoutMs) })) as [
        CachedAccessToken,
      ];
      return token;
    } catch {
      return null;
    }
  }

  tryClaimForceRefresh(intervalMs: number): Promise<boolean> {
    const now = this.now();
    if (now - this.lastForceAt < intervalMs) return Promise.resolve(false);
    this.lastForceAt = now;
    return Promise.resolve(true);
  }
}
