/**
 * Instances dying and stopping: a lock holder killed in the middle of the access-token fetch, and
 * SIGTERM while requests are in flight (drained, then exit 0; cut after 10 s).
 */
import { connect } from 'node:net';
import type { Response } from 'supertest';
import { ADMIN_OPENIDS, expectError, expectOk } from '../support/app-harness.js';
import { Cluster, timed, waitUntil, type ClusterLogin, type Instance } from '../support/instances.js';

const PHONE = '/api/v1/users/me/phone';
const WECHAT_TIMEOUT_MS = 1500;
/** docs/api.md: the lock on the access-token fetch expires after at most WECHAT_TIMEOUT_MS + 2 s. */
const LOCK_TTL_MS = WECHAT_TIMEOUT_MS + 2000;
const DRAIN_MS = 10_000;

/** For every test and hook (jest applies no project-level testTimeout to them). */
const TEST_TIMEOUT_MS = 60_000;

describe('instances dying and stopping', () => {
  let cluster: Cluster;
  let phoneSeq = 0;

  const newPhoneCode = () => {
    phoneSeq++;
    return cluster.fake.newPhoneCode({ purePhoneNumber: `135${String(phoneSeq).padStart(8, '0')}` });
  };
  const bind = (instance: Instance, login: ClusterLogin, code = newPhoneCode()): Promise<Response> =>
    instance.http().post(PHONE).set('Authorization', login.bearer).send({ code });

  /** Resolves true when a new TCP connection to the port is refused, false when it is accepted. */
  const refused = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });

  beforeAll(async () => {
    cluster = await Cluster.create({
      redisDb: 12,
      env: { RATE_LIMIT_ENABLED: 'false', WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS) },
    });
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.close();
  }, TEST_TIMEOUT_MS);

  it(
    'a lock holder killed mid-fetch delays the others by at most the lock expiry',
    async () => {
      const [a, b] = await cluster.start(2);
      const onA = await cluster.login(a);
      const onB = await cluster.login(b);
      cluster.fake.reset();
      // No token is cached yet. A takes the lock and calls stable_token, which does not answer.
      cluster.fake.delayNext('stable_token', 60_000);
      const stuck = bind(a, onA).then(
        () => 'answered',
        () => 'connection lost',
      );
      await cluster.fake.waitForCalls('stable_token', 1);
      const lockedAt = cluster.fake.requests('stable_token')[0].at;
      expect(await a.kill()).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await stuck).toBe('connection lost');

      // B's callers wait on A's lock and give up at WECHAT_TIMEOUT_MS (504) until it expires; then B
      // takes the lock and fetches. Each try is a real client retry, paced by the 504s themselves.
      const attempts: Array<{ status: number; code: number; ms: number }> = [];
      let bound: Response | undefined;
      while (!bound && Date.now() < lockedAt + LOCK_TTL_MS + 3 * WECHAT_TIMEOUT_MS) {
        const { res, ms } = await timed(bind(b, onB));
        attempts.push({ status: res.status, code: res.body?.code, ms: Math.round(ms) });
        if (res.status === 200) bound = res;
        else {
          expectError(res, 50400);
          expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + 1000);
        }
      }
      expect({ attempts, bound: bound?.status }).toMatchObject({ bound: 200 });
      expect(expectOk(bound!).phone).toMatch(/^135\*{4}\d{4}$/);

      const fetches = cluster.fake.requests('stable_token');
      expect(fetches).toHaveLength(2); // A's, lost with it, and B's once the lock expired
      // B never went around the lock, and was not kept waiting past its expiry.
      const delay = fetches[1].at - lockedAt;
      const afterExpiry = delay >= LOCK_TTL_MS - 100 && delay <= LOCK_TTL_MS + 700;
      expect(afterExpiry ? 'within the lock expiry' : JSON.stringify({ delay, attempts })).toBe(
        'within the lock expiry',
      );
      await b.kill();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGTERM lets requests in flight finish with 200, refuses new connections, and exits 0',
    async () => {
      // WeChat answers in 2 s, inside this instance's time limit.
      const [c, witness] = await cluster.start([{ WECHAT_TIMEOUT_MS: '5000' }, {}]);
      const logins = await Promise.all([cluster.login(c), cluster.login(c), cluster.login(c)]);
      expectOk(await bind(c, logins[0])); // the access token is cached: only the phone calls are slow
      cluster.fake.reset();
      cluster.fake.delayNext('getuserphonenumber', 2000, logins.length);
      let settled = 0;
      const inFlight = logins.map((login) =>
        Promise.resolve(bind(c, login)).finally(() => {
          settled++;
        }),
      );
      await cluster.fake.waitForCalls('getuserphonenumber', logins.length);

      const signalledAt = Date.now();
      c.signal('SIGTERM');
      // No event says the listener has closed: probe new connections until one is refused.
      await waitUntil(
        'new connections are refused',
        () => refused(c.port),
        (isRefused) => isRefused,
        2000,
        20,
      );
      expect(settled).toBe(0); // refused while the requests were still in flight

      const answers = await Promise.all(inFlight);
      for (const res of answers) {
        expect(expectOk(res).phone).toMatch(/^135\*{4}\d{4}$/);
        expect(res.headers.connection).toBe('close');
      }
      const exit = await c.exited;
      expect({ exit, output: exit.code === 0 ? '' : c.describe() }).toEqual({
        exit: { code: 0, signal: null },
        output: '',
      });
      expect(Date.now() - signalledAt).toBeLessThan(DRAIN_MS);
      // What the drained requests wrote is there (the pools closed after them, not before).
      const admin = await cluster.login(witness, ADMIN_OPENIDS[0]);
      for (const login of logins) {
        const user = expectOk(
          await witness.http().get(`/api/v1/users/${login.user.id}`).set('Authorization', admin.bearer),
        );
        expect(user.phone).toMatch(/^135\*{4}\d{4}$/);
      }
      await witness.kill();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGTERM cuts a request still running after 10 s and still exits 0',
    async () => {
      const [d] = await cluster.start([{ WECHAT_TIMEOUT_MS: '20000' }]);
      const login = await cluster.login(d);
      expectOk(await bind(d, login));
      cluster.fake.reset();
      cluster.fake.delayNext('getuserphonenumber', 15_000);
      const slow = bind(d, login).then(
        (res) => `answered ${res.status}`,
        () => 'cut',
      );
      await cluster.fake.waitForCalls('getuserphonenumber', 1);

      const signalledAt = Date.now();
      d.signal('SIGTERM');
      const exit = await d.exited;
      const tookMs = Date.now() - signalledAt;
      expect({ exit, output: exit.code === 0 ? '' : d.describe() }).toEqual({
        exit: { code: 0, signal: null },
        output: '',
      });
      expect(await slow).toBe('cut');
      expect(tookMs).toBeGreaterThanOrEqual(DRAIN_MS - 100);
      expect(tookMs).toBeLessThan(DRAIN_MS + 2000);
    },
    TEST_TIMEOUT_MS,
  );
});
