import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { InMemoryStableTokenApi } from '../support/in-memory-stable-token-api.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { RedisConnections } from '../../src/redis/redis-connections.js';
import { AccessTokenProvider } from '../../src/wechat/access-token/access-token.provider.js';
import { RedisAccessTokenStore } from '../../src/wechat/access-token/redis-access-token-store.js';

// Against the real Redis of this machine (127.0.0.1:6379, as `npm test` requires), in a database
// the cluster suites do not use (they take 9–13) and under a namespace of this run's own, so that
// neither the keys nor the stored-notice channel (pub/sub is not per database) touch anything else.
const REDIS_URL = 'redis://127.0.0.1:6379/14';
const NAMESPACE = `wxb-test:${process.pid}:${randomBytes(4).toString('hex')}:access_token`;

async function connected(connections: RedisConnections): Promise<RedisConnections> {
  for (const redis of [connections.client!, connections.subscriber!]) {
    if (redis.status !== 'ready') await once(redis, 'ready');
  }
  return connections;
}

describe('RedisAccessTokenStore (real Redis)', () => {
  const connections: RedisConnections[] = [];
  let admin: Redis;
  let a: RedisAccessTokenStore;
  let b: RedisAccessTokenStore;

  /** A store as another instance of the service has it: connections of its own, same namespace. */
  async function store(): Promise<RedisAccessTokenStore> {
    const conn = await connected(new RedisConnections({ url: REDIS_URL }));
    connections.push(conn);
    return new RedisAccessTokenStore(conn, NAMESPACE);
  }

  async function ourKeys(): Promise<string[]> {
    return (await admin.keys(`${NAMESPACE}*`)).sort();
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    a = await store();
    b = await store();
  });

  afterEach(async () => {
    const keys = await ourKeys();
    if (keys.length) await admin.del(...keys);
  });

  afterAll(async () => {
    if (admin?.status === 'ready') {
      const keys = await ourKeys();
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    }
    await Promise.all(connections.map((conn) => conn.onApplicationShutdown()));
  });

  it('stores the token until its refresh time and shares it between instances', async () => {
    expect(await b.get()).toBeNull();
    const token = { token: 'AT_one', refreshAt: Date.now() + 5000 };
    await a.set(token);
    expect(await b.get()).toEqual(token);
    const ttl = await admin.pttl(NAMESPACE);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    expect(await ourKeys()).toEqual([NAMESPACE]);
  });

  it('drops only the token that failed, and remembers it as refused for every instance', async () => {
    await a.set({ token: 'AT_newer', refreshAt: Date.now() + 60_000 });
    await b.dropIfCurrent('AT_older');
    expect((await a.get())?.token).toBe('AT_newer');
    expect(await a.wasRefused('AT_older')).toBe(true);
    expect(await a.wasRefused('AT_newer')).toBe(false);

    await b.dropIfCurrent('AT_newer');
    expect(await a.get()).toBeNull();
    expect(await a.wasRefused('AT_newer')).toBe(true);
    // Remembered for at most the longest lifetime WeChat gives a token (2 h).
    const ttl = await admin.pttl(`${NAMESPACE}:refused`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
  });

  it('gives the lock to one owner at a time, releases it only for that owner, and lets it expire', async () => {
    expect(await a.tryLock('owner-a', 4000)).toBe(true);
    expect(await b.tryLock('owner-b', 4000)).toBe(false);
    await b.unlock('owner-b'); // not the holder: nothing happens
    expect(await b.tryLock('owner-b', 4000)).toBe(false);
    const ttl = await admin.pttl(`${NAMESPACE}:lock`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(4000);

    await a.unlock('owner-a');
    expect(await b.tryLock('owner-b', 4000)).toBe(true);
    await b.unlock('owner-b');
    expect(await admin.exists(`${NAMESPACE}:lock`)).toBe(0);
  });

  it('wakes a waiter on another instance as soon as the token is stored', async () => {
    const started = performance.now();
    const waiting = b.waitForToken(3000);
    const token = { token: 'AT_stored', refreshAt: Date.now() + 60_000 };
    await a.set(token);
    expect(await waiting).toEqual(token);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('gives a waiter null once its time is up when nothing is stored', async () => {
    const started = performance.now();
    expect(await b.waitForToken(150)).toBeNull();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('lets one caller of all instances claim force_refresh per interval', async () => {
    expect(await a.tryClaimForceRefresh(30_000)).toBe(true);
    expect(await b.tryClaimForceRefresh(30_000)).toBe(false);
    expect(await a.tryClaimForceRefresh(30_000)).toBe(false);
    const ttl = await admin.pttl(`${NAMESPACE}:force_refresh`);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  describe('behind the provider, two instances', () => {
    let wechat: InMemoryStableTokenApi;

    function instance(shared: RedisAccessTokenStore) {
      const provider = new AccessTokenProvider(wechat, shared, new MetricsService(), { timeoutMs: 3000 });
      return {
        provider,
        /** A call carrying access_token, as the live client makes it. */
        call: () => provider.withToken(Date.now() + 3000, (token) => wechat.callWithToken(token)),
      };
    }

    beforeEach(() => {
      wechat = new InMemoryStableTokenApi();
    });

    it('makes one stable_token fetch for 100 concurrent callers across the two', async () => {
      const one = instance(a);
      const two = instance(b);
      const release = wechat.hold();
      const callers = Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? one : two).provider.getToken(Date.now() + 3000),
      );
      await wechat.waitForFetches(1);
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens)).toEqual(new Set([wechat.currentToken]));
      expect(wechat.fetches).toHaveLength(1);
      expect((await a.get())?.token).toBe(wechat.currentToken);
    });

    it('asks for force_refresh once when both meet the same refused token', async () => {
      const one = instance(a);
      const two = instance(b);
      await one.call();
      const refused = wechat.revokeToken(40001);
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).call()));
      expect(answers.map((answer) => answer.errcode)).toEqual(Array(40).fill(0));
      expect(wechat.forceFlags()).toEqual([false, false, true]);
      const fresh = wechat.currentToken;
      expect(fresh).not.toBe(refused);
      expect(wechat.tokensUsed.filter((t) => t === fresh)).toHaveLength(40);
      expect((await b.get())?.token).toBe(fresh);
    });
  });
});
