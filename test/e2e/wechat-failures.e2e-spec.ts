import type { Response } from 'supertest';
import {
  WECHAT_TIMEOUT_MS,
  expectError,
  expectOk,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

/** How much later than WECHAT_TIMEOUT_MS a timed-out answer may come (machine noise). */
const SLACK_MS = 1000;

describe('WeChat failing', () => {
  let h: Harness;
  let login: LoginResult;

  const timed = async (send: () => Promise<Response>): Promise<{ res: Response; ms: number }> => {
    const started = Date.now();
    const res = await send();
    return { res, ms: Date.now() - started };
  };
  const bindPhone = async (who: LoginResult = login): Promise<Response> =>
    h
      .http()
      .post('/api/v1/users/me/phone')
      .set('Authorization', who.bearer)
      .send({ code: h.fake.newPhoneCode({ purePhoneNumber: '13800138000' }) });

  beforeAll(async () => {
    h = await startHarness();
    login = await h.login();
  });
  beforeEach(() => {
    h.fake.reset();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('retries a busy WeChat (-1) and succeeds', async () => {
    h.fake.busyOnce('jscode2session');
    const code = h.fake.newCode();
    const data = expectOk(await h.postLogin(code));
    expect(data.isNewUser).toBe(true);
    expect(h.fake.calls('jscode2session')).toBe(2);
    expect(h.fake.requests('jscode2session').map((r) => r.query.js_code)).toEqual([code, code]);
  });

  it('answers 502 / 50200 with wechatErrcode -1 when WeChat stays busy, within the time limit', async () => {
    h.fake.failNext('jscode2session', -1, 1000);
    const { res, ms } = await timed(() => h.postLogin(h.fake.newCode()));
    expect(expectError(res, 50200)).toMatchObject({ wechatErrcode: -1 });
    expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + SLACK_MS);
    expect(h.fake.calls('jscode2session')).toBeGreaterThanOrEqual(2);
  });

  it.each([[40125], [40013], [99999]])(
    'answers 502 / 50200 with data.wechatErrcode for another WeChat errcode (%i), without retrying it',
    async (errcode) => {
      h.fake.failNext('jscode2session', errcode);
      const res = await h.postLogin(h.fake.newCode());
      expect(expectError(res, 50200)).toMatchObject({ wechatErrcode: errcode });
      expect(h.fake.calls('jscode2session')).toBe(1);
    },
  );

  it('answers 502 / 50200 with data.wechatErrcode for an unexpected errcode on the phone call', async () => {
    h.fake.failNext('getuserphonenumber', 47001);
    expect(expectError(await bindPhone(), 50200)).toMatchObject({ wechatErrcode: 47001 });
  });

  it('answers 504 / 50400 when WeChat is slower than WECHAT_TIMEOUT_MS, in about that time', async () => {
    h.fake.delayNext('jscode2session', WECHAT_TIMEOUT_MS + 3000);
    const { res, ms } = await timed(() => h.postLogin(h.fake.newCode()));
    expectError(res, 50400);
    expect(ms).toBeGreaterThanOrEqual(WECHAT_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + SLACK_MS);
  });

  it('answers 504 / 50400 when the phone call is slower than WECHAT_TIMEOUT_MS', async () => {
    expectOk(await bindPhone()); // the access token is cached
    h.fake.delayNext('getuserphonenumber', WECHAT_TIMEOUT_MS + 3000);
    const { res, ms } = await timed(() => bindPhone());
    expectError(res, 50400);
    expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + SLACK_MS);
  });

  it('answers 504 / 50400 within one time limit when the access-token fetch is slow', async () => {
    h.fake.revokeToken(42001); // the cached token fails, a new one must be fetched
    h.fake.delayNext('stable_token', WECHAT_TIMEOUT_MS + 3000);
    const { res, ms } = await timed(() => bindPhone());
    expectError(res, 50400);
    expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + SLACK_MS);
  });

  it('answers 429 / 42900 when the access-token quota is spent (45009), without retrying', async () => {
    h.fake.revokeToken(42001); // the cached token fails, a new one must be fetched
    h.fake.failNext('stable_token', 45009);
    const res = await bindPhone();
    expectError(res, 42900);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(h.fake.calls('stable_token')).toBe(1);
    // The next call gets a token and works.
    expectOk(await bindPhone());
  });

  it('answers 502 / 50200 when WeChat answers HTTP 500, and recovers on the next call', async () => {
    h.fake.http500Next('jscode2session');
    const res = await h.postLogin(h.fake.newCode());
    expect(res.status).toBe(502);
    expectError(res, 50200);
    expectOk(await h.postLogin(h.fake.newCode()));
  });

  it('answers a 5xx envelope (502 / 50200 or 504 / 50400) when WeChat drops the connection', async () => {
    h.fake.dropNext('jscode2session', 10);
    const { res, ms } = await timed(() => h.postLogin(h.fake.newCode()));
    expect([502, 504]).toContain(res.status);
    expectError(res, res.status === 502 ? 50200 : 50400);
    expect(ms).toBeLessThan(WECHAT_TIMEOUT_MS + SLACK_MS);
  });

  it('does not count WeChat errcodes towards the circuit breaker', async () => {
    for (let i = 0; i < 7; i++) {
      const code = h.fake.newCode();
      h.fake.rejectCode(code, 40029);
      expectError(await h.postLogin(code), 40001);
    }
    expectOk(await h.postLogin(h.fake.newCode()));
  });

  // Last in the file: it leaves the breaker open for 10 s.
  it('opens the circuit breaker after 5 consecutive HTTP failures: 503 / 50300 at once, WeChat not called', async () => {
    h.fake.http500Next('jscode2session', 100);
    for (let i = 0; i < 5; i++) expectError(await h.postLogin(h.fake.newCode()), 50200);
    const calls = h.fake.calls('jscode2session');
    const { res, ms } = await timed(() => h.postLogin(h.fake.newCode()));
    expectError(res, 50300);
    expect(ms).toBeLessThan(500);
    expect(h.fake.calls('jscode2session')).toBe(calls);
  });
});
