import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter, once } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { RedisConnections } from '../../redis/redis-connections.js';
import type { AccessTokenStore, CachedAccessToken } from './access-token-store.port.js';

const TOKEN_KEY = 'wxb:wechat:access_token';
const LOCK_KEY = 'wxb:wechat:access_token:lock';
const FORCE_KEY = 'wxb:wechat:access_token:force_refresh';
const REFUSED_KEY = 'wxb:wechat:access_token:refused';
const STORED_CHANNEL = 'wxb:wechat:access_token:stored';
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

  constructor(redis: RedisConnections) {
    this.client = redis.client!;
    const subscriber = redis.subscriber!;
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== STORED_CHANNEL) return;
      const token = parse(raw);
      if (token) this.stored.emit('token', token);
    });
    // Subscribed again by ioredis after a reconnection; polling covers the gap.
    void subscriber.subscribe(STORED_CHANNEL).catch(() => undefined);
  }

  async get(): Promise<CachedAccessToken | null> {
    return parse(await this.run(() => this.client.get(TOKEN_KEY)));
  }

  async set(token: CachedAccessToken): Promise<void> {
    const ttl = Math.max(1, Math.floor(token.refreshAt - Date.now()));
    const raw = JSON.stringify(token);
    await this.run(() =>
      this.client.multi().set(TOKEN_KEY, raw, 'PX', ttl).publish(STORED_CHANNEL, raw).exec(),
    );
  }

  async dropIfCurrent(token: string): Promise<void> {
    await this.run(() => this.client.eval(DROP_IF_CURRENT, 2, TOKEN_KEY, REFUSED_KEY, token, REFUSED_TTL_MS));
  }

  async wasRefused(token: string): Promise<boolean> {
    return (await this.run(() => this.client.get(REFUSED_KEY))) === token;
  }

  async tryLock(owner: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.client.set(LOCK_KEY, owner, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async unlock(owner: string): Promise<void> {
    await this.run(() => this.client.eval(UNLOCK_IF_OWNER, 1, LOCK_KEY, owner));
  }

  async waitForToken(timeoutMs: number): Promise<CachedAccessToken | null> {
    const controller = new AbortController();
    const notice = once(this.stored, 'token', { signal: controller.signal }).then(
      ([token]) => token as CachedAccessToken,
      () => null,
    );
    const deadline = Date.now() + timeoutMs;
    try {
      while (Date.now() < deadline) {
        const tick = sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), null, {
          signal: controller.signal,
        }).catch(() => null);
        const token = await Promise.race([notice, tick]);
        if (token) return token;
        const cached = await this.get();
        if (cached) return cached;
      }
      return null;
    } finally {
      controller.abort();
    }
  }

  async tryClaimForceRefresh(intervalMs: number): Promise<boolean> {
    return (
      (await this.run(() => this.client.set(FORCE_KEY, String(Date.now()), 'PX', intervalMs, 'NX'))) === 'OK'
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
