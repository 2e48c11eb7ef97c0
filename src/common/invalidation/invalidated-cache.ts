import { BoundedMap } from '../cache/bounded-map.js';
import type { InvalidationBus, InvalidationTopic } from './invalidation-bus.port.js';

interface Entry<V> {
  value: V;
  until: number;
}

/**
 * A per-instance cache for the hot path, correct across instances: entries are dropped by the
 * invalidation bus wherever the change happened, bypassed while the bus may have missed a message,
 * and never stored from a read that raced with an invalidation. The age limit is only a backstop.
 */
export class InvalidatedCache<V> {
  private readonly entries: BoundedMap<string, Entry<V>>;
  /** Bumped by every invalidation, so a load that overlapped one is not cached. */
  private epoch = 0;
  private readonly maxAgeMs: number;

  constructor(
    private readonly bus: InvalidationBus,
    private readonly topic: InvalidationTopic,
    options: { max: number; maxAgeMs: number },
  ) {
    this.entries = new BoundedMap(options.max);
    this.maxAgeMs = options.maxAgeMs;
    bus.subscribe(
      topic,
      (keys) => {
        this.epoch++;
        for (const key of keys) this.entries.delete(key);
      },
      () => {
        this.epoch++;
        this.entries.clear();
      },
    );
  }

  async getOrLoad(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (this.bus.isCurrent()) {
      const entry = this.entries.get(key);
      if (entry && entry.until > Date.now()) return entry.value;
    }
    const epoch = this.epoch;
    const value = await load();
    if (value !== null && epoch === this.epoch && this.bus.isCurrent()) {
      this.entries.set(key, { value, until: Date.now() + this.maxAgeMs });
    }
    return value;
  }

  /** Drops the keys here and on every other instance. */
  invalidate(keys: readonly string[]): Promise<void> {
    return keys.length === 0 ? Promise.resolve() : this.bus.publish(this.topic, keys);
  }
}
