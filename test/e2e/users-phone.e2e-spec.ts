import type { Response } from 'supertest';
import {
  APP_ID,
  APP_SECRET,
  OTHER_APP_ID,
  expectError,
  expectNoSecrets,
  expectOk,
  expectUserShape,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

const PHONE = '/api/v1/users/me/phone';

describe('POST /api/v1/users/me/phone', () => {
  let h: Harness;

  const bind = async (login: LoginResult, body: unknown): Promise<Response> =>
    h
      .http()
      .post(PHONE)
      .set('Authorization', login.bearer)
      .send(body as object);
  const me = async (login: LoginResult): Promise<Response> =>
    h.http().get('/api/v1/users/me').set('Authorization', login.bearer);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  // First test of the file: no WeChat access token has been fetched yet.
  it('fetches the WeChat access token once, by stable_token, for concurrent first callers', async () => {
    const logins = await Promise.all([h.login(), h.login(), h.login(), h.login()]);
    const answers = await Promise.all(
      logins.map((login, i) =>
        bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: `1390000000${i}` }) }),
      ),
    );
    answers.forEach((res, i) => expect(expectOk(res).phone).toBe(`139****000${i}`));

    expect(h.fake.calls('stable_token')).toBe(1);
    const [tokenCall] = h.fake.requests('stable_token');
    expect(tokenCall.method).toBe('POST');
    expect(tokenCall.body).toEqual({
      grant_type: 'client_credential',
      appid: APP_ID,
      secret: APP_SECRET,
      force_refresh: false,
    });
    expect(h.fake.log.some((r) => r.path === '/cgi-bin/token')).toBe(false);
    for (const call of h.fake.requests('getuserphonenumber')) {
      expect(call.method).toBe('POST');
      expect(call.query.access_token).toBe(h.fake.currentToken);
    }
  });

  it('binds the phone and only ever shows it masked', async () => {
    const login = await h.login();
    const code = h.fake.newPhoneCode({ purePhoneNumber: '13800138000' });
    const res = await bind(login, { code });
    const user = expectOk(res);
    expectUserShape(user);
    expect(user.phone).toBe('138****8000');
    expect(user.id).toBe(login.user.id);
    expectNoSecrets(res, ['13800138000', login.openid, login.sessionKey]);
    expect(h.fake.requests('getuserphonenumber').at(-1)?.body).toEqual({ code });

    const profile = await me(login);
    expect(expectOk(profile).phone).toBe('138****8000');
    expectNoSecrets(profile, ['13800138000']);

    const admin = await h.loginAdmin();
    const adminView = await h.http().get(`/api/v1/users/${login.user.id}`).set('Authorization', admin.bearer);
    expect(expectOk(adminView).phone).toBe('138****8000');
    expectNoSecrets(adminView, ['13800138000']);
    const list = await h.http().get('/api/v1/users?pageSize=100').set('Authorization', admin.bearer);
    expectOk(list);
    expectNoSecrets(list, ['13800138000', '13900000000', '13900000001']);
  });

  it('reuses the cached access token', async () => {
    const login = await h.login();
    const before = h.fake.calls('stable_token');
    expectOk(await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13700137000' }) }));
    expect(h.fake.calls('stable_token')).toBe(before);
  });

  it('replaces a bound phone with a new one', async () => {
    const login = await h.login();
    expectOk(await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13600136000' }) }));
    const user = expectOk(
      await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13500135999' }) }),
    );
    expect(user.phone).toBe('135****5999');
  });

  it('answers 40001 for a phone code already used or unknown (WeChat 40029)', async () => {
    const login = await h.login();
    const code = h.fake.newPhoneCode({ purePhoneNumber: '13800138001' });
    expectOk(await bind(login, { code }));
    expectError(await bind(login, { code }), 40001);
    expectError(await bind(login, { code: 'never-issued-phone-code' }), 40001);
    // A wx.login code sent by mistake is the same fault.
    expectError(await bind(login, { code: h.fake.newCode() }), 40001);
  });

  it('answers 40002 for phone info of another app, or without watermark, and keeps the phone', async () => {
    const login = await h.login();
    for (const appid of [OTHER_APP_ID, null]) {
      const code = h.fake.newPhoneCode({ purePhoneNumber: '13800138002', appid });
      const res = await bind(login, { code });
      expectError(res, 40002);
      expectNoSecrets(res, ['13800138002']);
    }
    expect(expectOk(await me(login)).phone).toBeNull();
  });

  it('refetches the access token once when WeChat refuses it (40001), forcing a refresh only then', async () => {
    const login = await h.login();
    const stale = h.fake.currentToken;
    h.fake.revokeToken(40001); // WeChat keeps handing the same failing token until force_refresh
    const forced = h.fake.forceRefreshCount;
    const user = expectOk(
      await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13800138003' }) }),
    );
    expect(user.phone).toBe('138****8003');
    expect(h.fake.currentToken).not.toBe(stale);
    expect(h.fake.forceRefreshCount).toBe(forced + 1);
    expect(h.fake.requests('getuserphonenumber').at(-1)?.query.access_token).toBe(h.fake.currentToken);
  });

  it('forces a refresh at most once per 30 s, and never loops', async () => {
    const login = await h.login();
    h.fake.revokeToken(40001); // the token forced in the test before fails again at once
    const forced = h.fake.forceRefreshCount;
    const calls = h.fake.calls('getuserphonenumber');
    const res = await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13800138013' }) });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expectError(res, res.body.code);
    expect(h.fake.forceRefreshCount).toBe(forced);
    expect(h.fake.calls('getuserphonenumber') - calls).toBeLessThanOrEqual(2);
  });

  it('refetches an expired access token (42001) without forcing a refresh', async () => {
    const login = await h.login();
    const stale = h.fake.currentToken;
    h.fake.revokeToken(42001); // WeChat hands a new token on a normal fetch
    const forced = h.fake.forceRefreshCount;
    expectOk(await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13800138004' }) }));
    expect(h.fake.currentToken).not.toBe(stale);
    expect(h.fake.forceRefreshCount).toBe(forced);
  });

  it('answers 429 / 42900 when WeChat says too frequent (45011)', async () => {
    const login = await h.login();
    h.fake.failNext('getuserphonenumber', 45011);
    const res = await bind(login, { code: h.fake.newPhoneCode({ purePhoneNumber: '13800138005' }) });
    expectError(res, 42900);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('needs a bearer token', async () => {
    expectError(await h.http().post(PHONE).send({ code: 'x' }), 40100);
  });

  it.each([
    ['missing', {}],
    ['empty', { code: '' }],
    ['a number', { code: 13800138000 }],
    ['an array', { code: ['x'] }],
  ])('refuses a code that is %s with 40000', async (_label, body) => {
    const login = await h.login();
    const before = h.fake.calls('getuserphonenumber');
    expectValidationError(await bind(login, body), 'code');
    expect(h.fake.calls('getuserphonenumber')).toBe(before);
  });

  it('refuses unknown properties with 40000', async () => {
    const login = await h.login();
    expectValidationError(await bind(login, { code: 'x', phoneNumber: '13800138000' }), 'phoneNumber');
  });
});
