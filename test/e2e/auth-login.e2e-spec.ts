import {
  ADMIN_OPENIDS,
  APP_ID,
  APP_SECRET,
  JWT_AUDIENCE,
  JWT_ISSUER,
  decodeJwt,
  expectError,
  expectNoSecrets,
  expectOk,
  expectUserShape,
  expectValidationError,
  startHarness,
  type Harness,
} from '../support/app-harness.js';

const LOGIN = '/api/v1/auth/wechat/login';

describe('POST /api/v1/auth/wechat/login', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('logs a new WeChat user in: tokens, user, isNewUser, and the access token claims', async () => {
    const code = h.fake.newCode(undefined, { unionid: 'u_login_union_000000000001' });
    const identity = h.fake.identityForCode(code);
    const res = await h.postLogin(code);
    const data = expectOk(res);

    expect(data).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      refreshExpiresIn: expect.any(Number),
      user: expect.any(Object),
      isNewUser: true,
    });
    // The remaining lifetime of the login (JWT_REFRESH_TTL default, give or take the clock tick).
    expect(data.refreshExpiresIn).toBeGreaterThanOrEqual(2592000 - 5);
    expect(data.refreshExpiresIn).toBeLessThanOrEqual(2592000);
    expectUserShape(data.user);
    expect(data.user).toMatchObject({ role: 'user', status: 'active', phone: null });

    const claims = decodeJwt(data.accessToken);
    expect(claims.sub).toBe(data.user.id);
    expect(typeof claims.sid).toBe('string');
    expect(claims.iss).toBe(JWT_ISSUER);
    expect([claims.aud].flat()).toContain(JWT_AUDIENCE);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect(data.refreshToken.length).toBeGreaterThanOrEqual(32);
    expect(data.refreshToken).not.toBe(data.accessToken);

    // The exact WeChat call, and nothing of WeChat's identity in the answer.
    const [call] = h.fake.requests('jscode2session').slice(-1);
    expect(call.method).toBe('GET');
    expect(call.query).toEqual({
      appid: APP_ID,
      secret: APP_SECRET,
      js_code: code,
      grant_type: 'authorization_code',
    });
    expectNoSecrets(res, [identity.openid, identity.session_key, identity.unionid, APP_SECRET]);
    expect(JSON.stringify(claims)).not.toContain(identity.openid);
  });

  it('finds the same user on a later login, in a new session', async () => {
    const first = await h.login();
    const again = await h.login(first.openid);
    expect(again.isNewUser).toBe(false);
    expect(again.user.id).toBe(first.user.id);
    expect(decodeJwt(again.tokens.accessToken).sid).not.toBe(decodeJwt(first.tokens.accessToken).sid);
    // Both logins stay usable (two devices).
    for (const login of [first, again]) {
      expectOk(await h.http().get('/api/v1/users/me').set('Authorization', login.bearer));
    }
  });

  it('gives the admin role to openids listed in ADMIN_OPENIDS', async () => {
    const admin = await h.login(ADMIN_OPENIDS[1]);
    expect(admin.user.role).toBe('admin');
    expectNoSecrets(admin.res, ADMIN_OPENIDS);
  });

  it('accepts a code of 128 characters', async () => {
    const code = 'c'.repeat(128);
    h.fake.registerCode(code, { openid: 'o_login_long_code_00000000001' });
    const data = expectOk(await h.postLogin(code));
    expect(data.isNewUser).toBe(true);
  });

  it.each([
    ['missing', {}],
    ['empty', { code: '' }],
    ['129 characters', { code: 'c'.repeat(129) }],
    ['a number', { code: 12345 }],
    ['null', { code: null }],
    ['an array', { code: ['abc'] }],
    ['an object', { code: { $ne: '' } }],
  ])(
    'refuses a code that is %s with 40000 naming the field, without calling WeChat',
    async (_label, body) => {
      const before = h.fake.calls('jscode2session');
      const res = await h.http().post(LOGIN).send(body);
      expectValidationError(res, 'code');
      expect(h.fake.calls('jscode2session')).toBe(before);
    },
  );

  it('passes a code with URL meta-characters to WeChat intact (no query-string injection)', async () => {
    const code = 'a&appid=wxevil&secret=x#frag b+c%20=d?';
    h.fake.registerCode(code, { openid: 'o_login_meta_code_000000001' });
    expectOk(await h.postLogin(code));
    const call = h.fake.requests('jscode2session').at(-1);
    expect(call?.query).toEqual({
      appid: APP_ID,
      secret: APP_SECRET,
      js_code: code,
      grant_type: 'authorization_code',
    });
  });

  it('refuses unknown body properties with 40000', async () => {
    const before = h.fake.calls('jscode2session');
    const res = await h.http().post(LOGIN).send({ code: h.fake.newCode(), role: 'admin' });
    expectValidationError(res, 'role');
    expect(h.fake.calls('jscode2session')).toBe(before);
  });

  it('answers 40001 for a code WeChat says is already used (40163)', async () => {
    const code = h.fake.newCode();
    expectOk(await h.postLogin(code));
    expectError(await h.postLogin(code), 40001);
  });

  it('answers 40001 for a code WeChat says is invalid (40029)', async () => {
    const code = h.fake.newCode();
    h.fake.rejectCode(code, 40029);
    expectError(await h.postLogin(code), 40001);
  });

  it('answers 40302 for a user WeChat flags as high-risk (40226)', async () => {
    const code = h.fake.newCode();
    h.fake.rejectCode(code, 40226);
    expectError(await h.postLogin(code), 40302);
  });

  it('answers 429 / 42900 with Retry-After when WeChat says too frequent (45011), without retrying', async () => {
    const code = h.fake.newCode();
    h.fake.rejectCode(code, 45011);
    const before = h.fake.calls('jscode2session');
    const res = await h.postLogin(code);
    expectError(res, 42900);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(h.fake.calls('jscode2session')).toBe(before + 1);
  });

  it('makes one user of two concurrent first logins of the same WeChat user', async () => {
    const admin = await h.loginAdmin();
    const total = async (): Promise<number> =>
      expectOk(await h.http().get('/api/v1/users').set('Authorization', admin.bearer)).total as number;
    const before = await total();

    const openid = 'o_login_concurrent_000000001';
    const codes = [h.fake.newCode(openid), h.fake.newCode(openid)];
    const answers = await Promise.all(codes.map((code) => h.postLogin(code)));
    const users = answers.map((res) => expectOk(res).user.id as string);
    expect(users[0]).toBe(users[1]);
    expect(answers.map((res) => res.body.data.isNewUser as boolean).sort()).toEqual([false, true]);
    expect(await total()).toBe(before + 1);
  });
});

describe('login rate limit (RATE_LIMIT_LOGIN=3)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN: '3' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('counts every login and refresh call, valid or not, and answers 429 / 42900 with Retry-After', async () => {
    const login = await h.login(); // 1: valid
    expectValidationError(await h.http().post(LOGIN).send({}), 'code'); // 2: invalid
    expectError(
      await h
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: 'x'.repeat(64) }),
      40102,
    ); // 3

    const limited = await h.postLogin(h.fake.newCode());
    expectError(limited, 42900);
    const retryAfter = limited.headers['retry-after'];
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);

    // Refresh shares the window.
    const refresh = await h
      .http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: login.tokens.refreshToken });
    expectError(refresh, 42900);
    expect(Number(refresh.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // X-Forwarded-For is not believed without TRUST_PROXY: a made-up address does not escape the limit.
    const forwarded = await h
      .http()
      .post(LOGIN)
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ code: h.fake.newCode() });
    expectError(forwarded, 42900);

    // Other routes are not limited: the login made before still works.
    expectOk(await h.http().get('/api/v1/users/me').set('Authorization', login.bearer));
  });
});
