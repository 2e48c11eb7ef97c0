/**
 * Tells every instance that cached facts changed (a login revoked, a user disabled). Hot-path
 * caches subscribe and drop the keys; they are only trusted while `isCurrent()` holds, i.e. while
 * no invalidation published by another instance can have been missed. In-process without Redis,
 * over Redis pub/sub with it (redis/redis-invalidation-bus.ts).
 */
export const INVALIDATION_BUS = Symbol('INVALIDATION_BUS');

export type InvalidationTopic = 'sessions' | 'users';

export interface InvalidationBus {
  /** Drops the keys here at once, then tells the other instances; throws 503 if it cannot. */
  publish(topic: InvalidationTopic, keys: readonly string[]): Promise<void>;
  /** `onKeys` for each invalidation; `onReset` when whatever is cached may be stale (drop it all). */
  subscribe(topic: InvalidationTopic, onKeys: (keys: readonly string[]) => void, onReset: () => void): void;
  isCurrent(): boolean;
}
