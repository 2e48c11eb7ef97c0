/**
 * Dependency outages, without touching the machine's MariaDB or Redis: instance A reaches both
 * through TCP proxies of the test, which cut the line (connections refused, or a silent network
 * that drops everything), then restore it. Instance B talks to both directly: it stands for the rest
 * of the fleet, still healthy while A is cut off.
 */
import type { Response } from 'supertest';
import { expectError, expectOk } from '../support/app-harness.js';
import {
  Cluster,
  MARIADB_HOST,
  MARIADB_PORT,
  REDIS_HOST,
  REDIS_PORT,
  timed,
  waitUntil,
  type ClusterLogin,
  type Instance,
} from '../support/instances.js';
import { TcpProxy, type CutOptions } from '../support/tcp-proxy.js';

const ME = '/api/v1/users/me';
const PHONE = '/api/v1/users/me/phone';
const READY = '/api/v1/health/ready';
const LIVE = '/api/v1/health/live';
/** docs/api.md: a request needing an unreachable dependency answers 503 within 3 s, ready within 3 s. */
const WITHIN_MS = 3000;

const CUTS: Array<[string, CutOptions]> = [
  ['down (connections refused)', {}],
  ['silent (nothing answers)', { silent: true }],
];

/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 60_000;

describe('dependency outages', () => {
  let cluster: Cluster;
  let dbProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let a: Instance;
  let b: Instance;

  const me = (instance: Instance, login: ClusterLogin): Promise<Response> =>
    instance.http().get(ME).set('Authorization', login.bearer);
  const rename = (instance: Instance, login: ClusterLogin, nickname: string): Promise<Response> =>
    instance.http().patch(ME).set('Authorization', login.bearer).send({ nickname });
  const bind = (instance: Instance, login: ClusterLogin): Promise<Response> =>
    instance
      .http()
      .post(PHONE)
      .set('Authorization', login.bearer)
      .send({ code: cluster.fake.newPhoneCode({ purePhoneNumber: '13600136000' }) });
  const logout = (instance: Instance, login: ClusterLogin): Promise<Response> =>
    instance.http().post('/api/v1/auth/logout').set('Authorization', login.bearer).send({});
  const ready = (instance: Instance): Promise<Response> => instance.http().get(READY);

  /** A's readiness probe and liveness while a dependency is cut; returns the probe's body. */
  const expectNotReady = async (failed: 'database' | 'redis'): Promise<void> => {
    const probe = await timed(ready(a));
    expect(probe.ms).toBeLessThan(WITHIN_MS);
    expect(probe.res.status).toBe(503);
    expect(probe.res.body.error?.[failed]?.status).toBe('down');
    const other = failed === 'database' ? 'redis' : 'database';
    expect(probe.res.body.details?.[other]?.status).toBe('up');
    const live = await timed(a.http().get(LIVE));
    expect(live.res.status).toBe(200);
    expect(live.ms).toBeLessThan(WITHIN_MS);
  };
  /** Recovery has no event to wait for: readiness is polled (same process, no restart). */
  const waitRecovered = async (): Promise<void> => {
    await waitUntil(
      `${a.name} is ready again`,
      () => ready(a),
      (res) => res.status === 200,
    );
    expect(a.running).toBe(true);
  };
  const expectUnavailableQuickly = (answer: { res: Response; ms: number }): void => {
    expectError(answer.res, 50300);
    expect(answer.ms).toBeLessThan(WITHIN_MS);
  };

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 11,
      env: { TRUST_PROXY: 'true', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN: '1000' },
    });
    dbProxy = await TcpProxy.start({ host: MARIADB_HOST, port: MARIADB_PORT });
    redisProxy = await TcpProxy.start({ host: REDIS_HOST, port: REDIS_PORT });
    [a, b] = await cluster.start([
      {
        DATABASE_URL: cluster.databaseUrlVia(dbProxy.port),
        REDIS_URL: cluster.redisUrlVia(redisProxy.port),
      },
      {},
    ]);
    // A really goes through the proxies.
    expect(dbProxy.forwardedConnections).toBeGreaterThan(0);
    expect(redisProxy.forwardedConnections).toBeGreaterThan(0);
  }, TEST_TIMEOUT_MS);
  afterEach(async () => {
    // A failed test must not leave the line cut, or A recovering, for the next one.
    if (dbProxy?.isCut || redisProxy?.isCut) {
      await dbProxy.restore();
      await redisProxy.restore();
      await waitRecovered();
    }
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
    await dbProxy?.close();
    await redisProxy?.close();
  }, TEST_TIMEOUT_MS);

  describe.each(CUTS)('MariaDB %s', (_label, cut) => {
    it(
      'answers 503 / 50300 within 3 s where the database is needed, readiness names it, and recovers without a restart',
      async () => {
        const login = await cluster.login(a);
        expectOk(await me(a, login));
        const pid = a.pid;

        await dbProxy.cut(cut);
        const [write, newLogin] = await Promise.all([
          timed(rename(a, login, 'during the outage')),
          timed(cluster.postLogin(a, cluster.fake.newCode())),
        ]);
        expectUnavailableQuickly(write);
        expectUnavailableQuickly(newLogin);
        await expectNotReady('database');
        // The rest of the fleet is unaffected.
        expect(expectOk(await me(b, login)).id).toBe(login.user.id);

        await dbProxy.restore();
        await waitRecovered();
        expect(a.pid).toBe(pid);
        expect(expectOk(await rename(a, login, 'after the outage')).nickname).toBe('after the outage');
        expect(expectOk(await me(b, login)).nickname).toBe('after the outage');
        expect((await cluster.login(a)).user.id).toEqual(expect.any(String));
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe.each(CUTS)('Redis %s', (_label, cut) => {
    it(
      'answers 503 / 50300 within 3 s where Redis is needed, readiness names it, and recovers without a restart',
      async () => {
        const login = await cluster.login(a);
        expectOk(await bind(a, login)); // an access token is cached in Redis
        const pid = a.pid;

        await redisProxy.cut(cut);
        const [newLogin, refresh, phone] = await Promise.all([
          timed(cluster.postLogin(a, cluster.fake.newCode())), // its rate limit lives in Redis
          timed(cluster.postRefresh(a, login.tokens.refreshToken)),
          timed(bind(a, login)), // the WeChat access token lives in Redis
        ]);
        expectUnavailableQuickly(newLogin);
        expectUnavailableQuickly(refresh);
        expectUnavailableQuickly(phone);
        await expectNotReady('redis');
        // Reads that only need the database go on (the session is checked there, not in a cache).
        expect(expectOk(await me(a, login)).id).toBe(login.user.id);

        await redisProxy.restore();
        await waitRecovered();
        expect(a.pid).toBe(pid);
        // The refresh refused during the outage did not spend the token.
        expectOk(await cluster.postRefresh(a, login.tokens.refreshToken));
        expectOk(await bind(a, login));
        expect((await cluster.login(a)).user.id).toEqual(expect.any(String));
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe.each(CUTS)('Redis %s for one instance only', (_label, cut) => {
    it(
      'a logout on another instance is not missed by the one cut off: it reads the database',
      async () => {
        const login = await cluster.login(b);
        // A has seen the login live: its cache holds it.
        expectOk(await me(a, login));
        expectOk(await me(a, login));

        await redisProxy.cut(cut);
        // A knows it is cut off once its readiness says so (a silent network gives no other sign).
        await waitUntil(
          `${a.name} reports redis down`,
          () => ready(a),
          (res) => res.status === 503,
        );
        // B's logout is published through Redis, which A cannot hear.
        expectOk(await logout(b, login));
        expectError(await me(a, login), 40100);

        await redisProxy.restore();
        await waitRecovered();
        expectError(await me(a, login), 40100);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a logout on the instance cut off holds there and answers 503; the others learn it once Redis is back',
      async () => {
        const login = await cluster.login(a);
        expectOk(await me(b, login));
        expectOk(await me(a, login));

        await redisProxy.cut(cut);
        // The other instances cannot be told yet: the client learns the logout is not complete.
        expectUnavailableQuickly(await timed(logout(a, login)));
        // Where it was made, it holds at once (written to the database).
        expectError(await me(a, login), 40100);

        await redisProxy.restore();
        await waitRecovered();
        // Nobody retried anything: the instance tells the others as soon as it reaches Redis again.
        expectError(await me(b, login), 40100);
        expectError(await me(a, login), 40100);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
