/**
 * Two copies of the built service (`node dist/main.js`) behind no balancer at all: the test spreads
 * its calls over both, and every guarantee that depends on shared state (the WeChat access token,
 * revocations, refresh rotation, rate limits) must hold whichever copy a call lands on.
 *
 * The instances believe X-Forwarded-For (TRUST_PROXY=true) so that each login comes from an address
 * of its own, and only the rate-limit test shares one window on purpose.
 */
import mysql from 'mysql2/promise';
import type { Response } from 'supertest';
import {
  ADMIN_OPENIDS,
  MARIADB_ROOT_URL,
  expectError,
  expectOk,
  expectUserShape,
  type Tokens,
} from '../support/app-harness.js';
import { MIGRATIONS } from '../../src/database/migrations/index.js';
import { Cluster, freshIp, type ClusterLogin, type Instance } from '../support/instances.js';

const ME = '/api/v1/users/me';
const PHONE = '/api/v1/users/me/phone';
const LOGOUT = '/api/v1/auth/logout';
const LOGIN_LIMIT = 5;

/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 60_000;

describe('several instances sharing MariaDB, Redis and WeChat', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;

  const me = (instance: Instance, accessToken: string): Promise<Response> =>
    instance.http().get(ME).set('Authorization', `Bearer ${accessToken}`);
  const bind = (instance: Instance, login: ClusterLogin, code: string): Promise<Response> =>
    instance.http().post(PHONE).set('Authorization', login.bearer).send({ code });
  const logout = (instance: Instance, login: ClusterLogin, allDevices?: boolean): Promise<Response> =>
    instance
      .http()
      .post(LOGOUT)
      .set('Authorization', login.bearer)
      .send(allDevices === undefined ? {} : { allDevices });
  const sumOver = async (name: string, labels: Record<string, string> = {}): Promise<number[]> =>
    Promise.all([a, b].map((instance) => instance.metric(name, labels)));

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 10,
      env: {
        TRUST_PROXY: 'true',
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_LOGIN: String(LOGIN_LIMIT),
        // Generous: 100 callers at once on each instance of a 2-core machine must not time out.
        WECHAT_TIMEOUT_MS: '5000',
      },
    });
    [a, b] = await cluster.start(2);
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, TEST_TIMEOUT_MS);

  it(
    'starts both instances at once on one empty database, running the migrations once',
    async () => {
      const conn = await mysql.createConnection(`${MARIADB_ROOT_URL}/${cluster.databaseName}`);
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT name FROM schema_migrations');
        expect(rows.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
      } finally {
        await conn.end();
      }
      for (const instance of [a, b]) {
        expect((await instance.http().get('/api/v1/health/ready')).status).toBe(200);
      }
      // Each listens for invalidations (sessions, users) and for the stored access token.
      expect(await cluster.redisSubscriptions()).toEqual([3, 3]);
    },
    TEST_TIMEOUT_MS,
  );

  describe('the WeChat access token', () => {
    let users: ClusterLogin[];
    let phoneSeq = 0;
    const newPhone = () => {
      phoneSeq++;
      return { purePhoneNumber: `137${String(phoneSeq).padStart(8, '0')}` };
    };
    const masked = (pure: string) => `${pure.slice(0, 3)}****${pure.slice(-4)}`;

    /** `count` bindings at once, alternating instances; all must succeed with the bound number. */
    const bindConcurrently = async (
      count: number,
      over: Instance[] = [a, b],
      logins: ClusterLogin[] = users,
    ): Promise<void> => {
      const jobs = Array.from({ length: count }, (_, i) => {
        const phone = newPhone();
        const instance = over[i % over.length];
        return {
          phone,
          instance,
          res: bind(instance, logins[i % logins.length], cluster.fake.newPhoneCode(phone)),
        };
      });
      const answers = await Promise.all(jobs.map((job) => job.res));
      const failures = answers
        .map((res, i) => ({ i, instance: jobs[i].instance.name, status: res.status, body: res.body }))
        .filter((answer) => answer.status !== 200);
      expect(failures).toEqual([]);
      answers.forEach((res, i) => expect(expectOk(res).phone).toBe(masked(jobs[i].phone.purePhoneNumber)));
    };

    beforeAll(async () => {
      // 40 users, half logged in on each instance; 5 bindings each stay under the per-user limit (30).
      users = await Promise.all(Array.from({ length: 40 }, (_, i) => cluster.login(i % 2 === 0 ? a : b)));
    }, TEST_TIMEOUT_MS);

    it(
      'is fetched once for both instances and shared through Redis',
      async () => {
        cluster.fake.reset();
        const first = expectOk(await bind(a, users[0], cluster.fake.newPhoneCode(newPhone())));
        expectUserShape(first);
        expectOk(await bind(b, users[1], cluster.fake.newPhoneCode(newPhone())));
        expect(cluster.fake.calls('stable_token')).toBe(1);
        const [call] = cluster.fake.requests('stable_token');
        expect(call.body).toMatchObject({ grant_type: 'client_credential', force_refresh: false });
        // Both instances called WeChat with the one token.
        const used = cluster.fake.requests('getuserphonenumber').map((r) => r.query.access_token);
        expect(used).toEqual([cluster.fake.currentToken, cluster.fake.currentToken]);
        expect(await cluster.redisKeys('wxb:wechat:access_token')).toEqual(['wxb:wechat:access_token']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'after WeChat revokes it, 200 concurrent phone bindings over both instances make one stable_token fetch',
      async () => {
        await bindConcurrently(2); // a working token is cached
        const revoked = cluster.fake.currentToken;
        expect(revoked).toBeDefined();
        const fetchesBefore = await sumOver('wechat_access_token_fetches_total');
        cluster.fake.revokeToken(40001, true); // calls with it answer 40001; stable_token hands a new one
        cluster.fake.reset();
        // The fetch takes a second, so that callers on both instances find the token refused or gone
        // while it runs, and must wait for it (well inside WECHAT_TIMEOUT_MS).
        cluster.fake.delayNext('stable_token', 1000);
        const waitsBefore = await sumOver('wechat_access_token_lock_wait_seconds_count');

        await bindConcurrently(200);

        expect(cluster.fake.calls('stable_token')).toBe(1);
        expect(cluster.fake.requests('stable_token')[0].body).toMatchObject({ force_refresh: false });
        expect(cluster.fake.currentToken).not.toBe(revoked);
        // Every call WeChat accepted carried the new token.
        const calls = cluster.fake.requests('getuserphonenumber');
        for (const call of calls.filter((c) => c.errcode === 0)) {
          expect(call.query.access_token).toBe(cluster.fake.currentToken);
        }
        expect(calls.filter((c) => c.errcode === 40001).length).toBeGreaterThan(0);
        // And exactly one of the two fetched (each instance counts its own fetches).
        const fetches = (await sumOver('wechat_access_token_fetches_total')).map(
          (n, i) => n - fetchesBefore[i],
        );
        expect([...fetches].sort()).toEqual([0, 1]);
        // The other instance's callers waited for it through the shared lock.
        const waits = (await sumOver('wechat_access_token_lock_wait_seconds_count')).map(
          (n, i) => n - waitsBefore[i],
        );
        expect(waits[fetches.indexOf(0)]).toBeGreaterThan(0);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'when WeChat hands the refused token back, one force_refresh serves both instances',
      async () => {
        await bindConcurrently(2); // a working token is cached
        const revoked = cluster.fake.currentToken;
        expect(revoked).toBeDefined();
        cluster.fake.revokeToken(40001, false); // stable_token keeps answering it until force_refresh
        cluster.fake.reset();

        await bindConcurrently(100);

        const fetches = cluster.fake
          .requests('stable_token')
          .map((r) => (r.body as { force_refresh: boolean }).force_refresh);
        expect(fetches).toEqual([false, true]);
        expect(cluster.fake.currentToken).not.toBe(revoked);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('the WeChat access token with four instances', () => {
    it(
      'after WeChat revokes it, 1,000 concurrent callers over four instances make one stable_token fetch',
      async () => {
        const [c, d] = await cluster.start(2);
        try {
          const all = [a, b, c, d];
          // 100 users (10 bindings each, under the per-user limit), logged in all over.
          const logins = await Promise.all(Array.from({ length: 100 }, (_, i) => cluster.login(all[i % 4])));
          let seq = 0;
          const bindAll = async (count: number) => {
            const answers = await Promise.all(
              Array.from({ length: count }, (_, i) => {
                seq++;
                const phone = { purePhoneNumber: `133${String(seq).padStart(8, '0')}` };
                return bind(all[i % 4], logins[i % logins.length], cluster.fake.newPhoneCode(phone));
              }),
            );
            const failures = answers.filter((res) => res.status !== 200).map((res) => res.body);
            expect({ failures: failures.slice(0, 3), count: failures.length }).toEqual({
              failures: [],
              count: 0,
            });
          };
          await bindAll(4); // every instance works with the cached token
          cluster.fake.revokeToken(40001, true);
          cluster.fake.reset();
          cluster.fake.delayNext('stable_token', 1000);

          await bindAll(1000);

          expect(cluster.fake.calls('stable_token')).toBe(1);
          expect(cluster.fake.forceRefreshCount).toBe(1); // the one of the earlier test, no other
        } finally {
          await Promise.all([c.kill(), d.kill()]);
        }
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('revocations reach the other instance at once', () => {
    it(
      'a logout on one instance refuses the token on the other at its next request',
      async () => {
        // Several rounds, both directions: each must hold, not just most.
        for (let round = 0; round < 6; round++) {
          const [here, there] = round % 2 === 0 ? [a, b] : [b, a];
          const login = await cluster.login(here);
          // The other instance has seen the login live (its cache holds it).
          expectOk(await me(there, login.tokens.accessToken));
          expectOk(await me(there, login.tokens.accessToken));
          expect(expectOk(await logout(here, login))).toBeNull();
          expectError(await me(there, login.tokens.accessToken), 40100);
          expectError(await me(here, login.tokens.accessToken), 40100);
          expectError(await cluster.postRefresh(there, login.tokens.refreshToken), 40102);
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a logout of all devices on one instance ends every login of the user on both',
      async () => {
        const phone = await cluster.login(a);
        const tablet = await cluster.login(b, phone.openid);
        const other = await cluster.login(a); // another user: unaffected
        for (const instance of [a, b]) {
          for (const login of [phone, tablet, other]) expectOk(await me(instance, login.tokens.accessToken));
        }
        expectOk(await logout(b, tablet, true));
        for (const instance of [a, b]) {
          expectError(await me(instance, phone.tokens.accessToken), 40100);
          expectError(await me(instance, tablet.tokens.accessToken), 40100);
          expectOk(await me(instance, other.tokens.accessToken));
        }
        expectError(await cluster.postRefresh(a, phone.tokens.refreshToken), 40102);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'disabling a user through the admin API on one instance refuses its token on the other (40301)',
      async () => {
        const admin = await cluster.login(a, ADMIN_OPENIDS[0]);
        expect(admin.user.role).toBe('admin');
        const user = await cluster.login(b);
        expectOk(await me(b, user.tokens.accessToken));
        expectOk(await me(a, user.tokens.accessToken));

        const disabled = expectOk(
          await a
            .http()
            .patch(`/api/v1/users/${user.user.id}`)
            .set('Authorization', admin.bearer)
            .send({ status: 'disabled' }),
        );
        expect(disabled.status).toBe('disabled');
        expectError(await me(b, user.tokens.accessToken), 40301);
        expectError(await me(a, user.tokens.accessToken), 40301);
        expectError(await cluster.postRefresh(b, user.tokens.refreshToken), 40301);

        // Disabling ended the user's logins: enabled again (on the other instance), the old token
        // stays refused on both, and a new login works.
        expect(
          expectOk(
            await b
              .http()
              .patch(`/api/v1/users/${user.user.id}`)
              .set('Authorization', admin.bearer)
              .send({ status: 'active' }),
          ).status,
        ).toBe('active');
        expectError(await me(a, user.tokens.accessToken), 40100);
        expectError(await me(b, user.tokens.accessToken), 40100);
        const again = await cluster.login(a, user.openid);
        expect(expectOk(await me(b, again.tokens.accessToken)).status).toBe('active');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'erasing a user on one instance refuses its token on the other',
      async () => {
        const admin = await cluster.login(b, ADMIN_OPENIDS[1]);
        const user = await cluster.login(a);
        expectOk(await me(a, user.tokens.accessToken));
        expectOk(await me(b, user.tokens.accessToken));
        expect(
          expectOk(await b.http().delete(`/api/v1/users/${user.user.id}`).set('Authorization', admin.bearer)),
        ).toBeNull();
        expectError(await me(a, user.tokens.accessToken), 40100);
        expectError(
          await a.http().get(`/api/v1/users/${user.user.id}`).set('Authorization', admin.bearer),
          40400,
        );
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('refresh rotation across instances', () => {
    it(
      'a refresh token used again on the other instance revokes the login everywhere (40103)',
      async () => {
        const login = await cluster.login(a);
        const otherDevice = await cluster.login(b, login.openid);
        const rotated = expectOk(await cluster.postRefresh(a, login.tokens.refreshToken)) as Tokens;
        // Both instances have seen the new pair live.
        expectOk(await me(a, rotated.accessToken));
        expectOk(await me(b, rotated.accessToken));

        expectError(await cluster.postRefresh(b, login.tokens.refreshToken), 40103);

        for (const instance of [a, b]) {
          expectError(await me(instance, rotated.accessToken), 40100);
          expectError(await me(instance, login.tokens.accessToken), 40100);
        }
        expectError(await cluster.postRefresh(a, rotated.refreshToken), 40102);
        // Only that login ends: the user's other device is still signed in.
        expectOk(await me(a, otherDevice.tokens.accessToken));
        expectOk(await me(b, otherDevice.tokens.accessToken));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'lets exactly one of 8 concurrent refreshes of one token, spread over both instances, through',
      async () => {
        const login = await cluster.login(a);
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            cluster.postRefresh(i % 2 === 0 ? a : b, login.tokens.refreshToken),
          ),
        );
        const winners = answers.filter((res) => res.status === 200);
        expect(winners).toHaveLength(1);
        const losers = answers.filter((res) => res.status !== 200).map((res) => res.body.code as number);
        expect(losers).toHaveLength(7);
        for (const res of answers.filter((r) => r.status !== 200)) {
          expect([40102, 40103]).toContain(res.body.code);
          expectError(res, res.body.code as number);
        }
        // The token was used more than once: the reuse ends the login, the winner's new pair included.
        expect(losers).toContain(40103);
        const won = expectOk(winners[0]) as Tokens;
        for (const instance of [a, b]) expectError(await me(instance, won.accessToken), 40100);
        expectError(await cluster.postRefresh(b, won.refreshToken), 40102);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('the login rate limit', () => {
    it(
      'is one window per client IP shared by both instances and by login and refresh (429 / 42900)',
      async () => {
        const ip = freshIp();
        // LOGIN_LIMIT calls from one address on instance A, valid or not...
        for (let i = 0; i < LOGIN_LIMIT - 1; i++) {
          expectOk(await cluster.postLogin(a, cluster.fake.newCode(), ip));
        }
        expectError(await cluster.postRefresh(a, 'r'.repeat(64), ip), 40102);
        // ...and the next one is refused on instance B, for login and refresh alike.
        const refused = await cluster.postLogin(b, cluster.fake.newCode(), ip);
        expectError(refused, 42900);
        const retryAfter = Number(refused.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expectError(await cluster.postRefresh(b, 'r'.repeat(64), ip), 42900);
        expectError(await cluster.postLogin(a, cluster.fake.newCode(), ip), 42900);
        // Another address is not affected.
        expectOk(await cluster.postLogin(b, cluster.fake.newCode(), freshIp()));
        expect((await sumOver('rate_limit_rejections_total', { limit: 'login' })).every((n) => n >= 1)).toBe(
          true,
        );
      },
      TEST_TIMEOUT_MS,
    );
  });
});
