import { Injectable } from '@nestjs/common';
import { BoundedMap } from '../../common/cache/bounded-map.js';
import type { CachedSession, SessionCache } from './session-cache.port.js';

@Injectable()
export class MemorySessionCache implements SessionCache {
  private readonly entries = new BoundedMap<string, CachedSession>(100_000);

  get(sessionId: string): CachedSession | undefined {
    return this.entries.get(sessionId);
  }

  set(sessionId: string, state: CachedSession): void {
    this.entries.set(sessionId, state);
  }

  delete(sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.entries.delete(id);
  }
}
