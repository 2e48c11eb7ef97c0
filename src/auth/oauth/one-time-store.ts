import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BoundedMap } from '../../common/cache/bounded-map.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { RedisConnections } from '../../redis/redis-connections.js';

/**
 * Short-lived values that must be used at most once across every instance: the web sign-in's
 * states (10 minutes) and tickets (60 s). In Redis with REDIS_URL, so an instance other than the
 * one that made a value can spend it; in process memory otherwise. Redis unreachable → 503 / 50300.
 */
export abstract class OneTimeStore {
  abstract put(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value, left in place (a refused state is not spent). */
  abstract peek(key: string): Promise<string | null>;
  /** Removes the value; true for the one caller that did, of any number at once. */
  abstract spend(key: string): Promise<boolean>;
  /** Reads and removes in one step: of concurrent callers one gets the value, the rest null. */
  abstract take(key: string): Promise<string | null>;
}

const PREFIX = 'wxb:oauth:';
// GETDEL needs Redis 6.2; a script does the same in one step on any version.
const TAKE = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v`;

export class RedisOneTimeStore extends OneTimeStore {
  private readonly client: Redis;

  constructor(redis: RedisConnections) {
    super();
    this.client = redis.client!;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run(() => this.client.set(PREFIX + key, value, 'PX', ttlMs));
  }

  peek(key: string): Promise<string | null> {
    return this.run(() => this.client.get(PREFIX + key));
  }

  async spend(key: string): Promise<boolean> {
    return (await this.run(() => this.client.del(PREFIX + key))) === 1;
  }

  async take(key: string): Promise<string | null> {
    const value = await this.run(() => this.client.eval(TAKE, 1, PREFIX + key));
    return typeof value === 'string' ? value : null;
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
  }
}

/** At most this many live values in one process: a flood of authorizations cannot grow it further. */
const MEMORY_MAX = 100_000;

@Injectable()
export class MemoryOneTimeStore extends OneTimeStore {
  private readonly values = new BoundedMap<string, { value: string; until: number }>(MEMORY_MAX);

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, until: this.now() + ttlMs });
  }

  async peek(key: string): Promise<string | null> {
    return this.live(key);
  }

  async spend(key: string): Promise<boolean> {
    return this.live(key) !== null && this.values.delete(key);
  }

  async take(key: string): Promise<string | null> {
    const value = this.live(key);
    if (value !== null) this.values.delete(key);
    return value;
  }

  private live(key: string): string | null {
    const entry = this.values.get(key);
    if (!entry) return null;
    if (entry.until > this.now()) return entry.value;
    this.values.delete(key);
    return null;
  }
}
