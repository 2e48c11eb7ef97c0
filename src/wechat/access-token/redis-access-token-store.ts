import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter, once } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { RedisConnections } from '../../redis/redis-connections.js';
import type { AccessTokenStore, CachedAccessToken } from './access-token-store.port.js';

/** The mini-program's token; the lock, force_refresh stamp, refused token and stored-notices hang off it. */
const DEFAULT_NAMESPACE = 'wxb:wechat:access_token';
/** A refused token is remembered for the longest lifetime WeChat gives a token. */
const REFUSED_TTL_MS = 7_200_000;
/** Waiters also look at the cache this often, in case a stored-notice was lost. */
const POLL_MS = 100;

// Compare-and-delete in one step: between a GET and a DEL another instance may store a newer token.
// The refused token is remembered in the same step, so no fetcher can store it again in between.
const DROP_IF_CURRENT = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const UNLOCK_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Several instances: one token, one lock and one force_refresh stamp in Redis. */
@Injectable()
export class RedisAccessTokenStore implements AccessTokenStore {
  private readonly client: Redis;
  private readonly stored = new EventEmitter().setMaxListeners(0);
  private readonly keys: { token: string; lock: string; force: string; refused: string; stored: string };

  /**
   * `namespace` says whose token this is: another account's token needs its own, and so do tests,
   * which must not touch (or wake) a running service's token.
   */
  constructor(redis: RedisConnections, namespace = DEFAULT_NAMESPACE) {
    this.keys = {
      token: namespace,
      lock: `${namespace}:lock`,
      force: `${namespace}:force_refresh`,
      refused: `${namespace}:refused`,
      stored: `${namespace}:stored`,
    };
    this.client = redis.client!;
    const subscriber = redis.subscriber!;
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.keys.stored && parse(raw)) this.stored.emit('token');
    });
    // Subscribed again by ioredis after a reconnection; polling covers the gap.
    void subscriber.subscribe(this.keys.stored).catch(() => undefined);
  }

  async get(): Promise<CachedAccessToken | null> {
    return parse(await this.run(() => this.client.get(this.keys.token)));
  }

  async set(token: CachedAccessToken): Promise<void> {
    const ttl = Math.max(1, Math.floor(token.refreshAt - Date.now()));
    const raw = JSON.stringify(token);
    await this.run(() =>
      this.client.multi().set(this.keys.token, raw, 'PX', ttl).publish(this.keys.stored, raw).exec(),
    );
  }

  async dropIfCurrent(token: string): Promise<void> {
    await this.run(() =>
      this.client.eval(DROP_IF_CURRENT, 2, this.keys.token, this.keys.refused, token, REFUSED_TTL_MS),
    );
  }

  async wasRefused(token: string): Promise<boolean> {
    return (await this.run(() => this.client.get(this.keys.refused))) === token;
  }

  async tryLock(owner: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.client.set(this.keys.lock, owner, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async unlock(owner: string): Promise<void> {
    await this.run(() => this.client.eval(UNLOCK_IF_OWNER, 1, this.keys.lock, owner));
  }

  /**
   * The stored-notice only wakes the waiter, which then reads the key: Redis pub/sub channels are
   * shared by every database of a server, so a notice may come from another deployment (another
   * mini-program on DB 1) whose token must never be taken for ours.
   */
  async waitForToken(timeoutMs: number): Promise<CachedAccessToken | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const round = new AbortController();
      const wake = { signal: round.signal };
      await Promise.race([
        once(this.stored, 'token', wake).catch(() => null),
        sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), null, wake).catch(() => null),
      ]);
      round.abort();
      const cached = await this.get();
      if (cached) return cached;
    }
    return null;
  }

  async tryClaimForceRefresh(intervalMs: number): Promise<boolean> {
    return (
      (await this.run(() => this.client.set(this.keys.force, String(Date.now()), 'PX', intervalMs, 'NX'))) ===
      'OK'
    );
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error });
    }
  }
}

function parse(raw: string | null): CachedAccessToken | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as CachedAccessToken;
    return typeof value.token === 'string' && typeof value.refreshAt === 'number' ? value : null;
  } catch {
    return null;
  }
}
