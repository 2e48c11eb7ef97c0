import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import {
  expectError,
  expectNoSecrets,
  expectOk,
  expectUserShape,
  expectValidationError,
  startHarness,
  WECHAT_TIMEOUT_MS,
  type Harness,
} from '../support/app-harness.js';
import {
  FakeWechat,
  OFFICIAL_APP_ID,
  OFFICIAL_APP_SECRET,
  type OAuthIdentity,
} from '../support/fake-wechat-http-api.js';
import { OaCallbackBuilder } from '../support/oa-callback-builder.js';

const OAUTH = '/api/v1/auth/wechat/oauth';
const PUBLIC_BASE_URL = 'https://api.e2e.example';
const PAGE = 'https://h5.e2e.example/after-login?from=menu';
const OA_ENV = {
  WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
  WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
  WECHAT_OA_TOKEN: 'e2eOaToken123',
  PUBLIC_BASE_URL,
  OAUTH_REDIRECT_ALLOWLIST: 'https://h5.e2e.example,http://127.0.0.1:8080',
};

type Scope = 'snsapi_base' | 'snsapi_userinfo';

interface Authorized {
  res: Response;
  location: string;
  state: string;
  /** `wxb_oauth=…`, as the browser sends it back. */
  cookie: string;
  setCookie: string;
}

const fragment = (location: string) => new URL(location).hash.slice(1);
const oaOpenid = () => FakeWechat.officialOpenidFor(randomBytes(8).toString('hex'));
const unionid = () => `u_oauth_${randomBytes(8).toString('hex')}`;

/** The browser: authorize → WeChat (the fake) → callback, the cookie carried, then the exchange. */
function browser(h: Harness) {
  async function authorize(
    scope: Scope = 'snsapi_base',
    redirect = PAGE,
    cookie?: string,
  ): Promise<Authorized> {
    const req = h.http().get(`${OAUTH}/authorize`).query({ scope, redirect });
    if (cookie) req.set('Cookie', cookie);
    const res = await req;
    if (res.status !== 302) throw new Error(`authorize: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const setCookie = [res.headers['set-cookie']].flat()[0] as string;
    const location = res.headers.location as string;
    return {
      res,
      location,
      state: new URL(location).searchParams.get('state')!,
      cookie: setCookie.split(';')[0],
      setCookie,
    };
  }

  /** GET the callback WeChat sends the browser to (its host is PUBLIC_BASE_URL; this app serves it). */
  async function follow(redirectTo: string, cookie: string | undefined): Promise<Response> {
    const url = new URL(redirectTo);
    const req = h.http().get(url.pathname + url.search);
    if (cookie) req.set('Cookie', cookie);
    return req;
  }

  async function callback(
    auth: Authorized,
    options: { identity?: Partial<OAuthIdentity>; consent?: boolean; cookie?: string } = {},
  ): Promise<{ res: Response; location: string; code?: string }> {
    const step = h.fake.authorize(auth.location, options);
    const res = await follow(step.redirectTo, 'cookie' in options ? options.cookie : auth.cookie);
    if (res.status !== 302) throw new Error(`callback: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return { res, location: res.headers.location as string, code: step.code };
  }

  const exchange = (ticket: unknown) => h.http().post(`${OAUTH}/exchange`).send({ ticket });

  /** The whole sign-in; returns every answer on the way and the login. */
  async function signIn(scope: Scope = 'snsapi_base', identity: Partial<OAuthIdentity> = {}) {
    const auth = await authorize(scope);
    const cb = await callback(auth, { identity });
    const ticket = /^ticket=([A-Za-z0-9_-]+)$/.exec(fragment(cb.location))?.[1];
    if (!ticket) throw new Error(`no ticket: ${cb.location}`);
    const res = await exchange(ticket);
    const login = expectOk(res) as {
      accessToken: string;
      refreshToken: string;
      user: { id: string; nickname: string | null; avatarUrl: string | null };
      isNewUser: boolean;
    };
    return { auth, cb, ticket, res, login, answers: [auth.res, cb.res, res] };
  }

  return { authorize, follow, callback, exchange, signIn };
}

describe('web sign-in (OAuth in the WeChat browser)', () => {
  let h: Harness;
  let b: ReturnType<typeof browser>;

  beforeAll(async () => {
    h = await startHarness({ env: OA_ENV });
    b = browser(h);
  });
  afterAll(() => h?.close());

  it('snsapi_base from authorize to exchange: our own tokens, no WeChat identity or token in any answer or URL', async () => {
    const openid = oaOpenid();
    const { auth, cb, ticket, login, answers } = await b.signIn('snsapi_base', { openid });

    // authorize: WeChat's link exactly, and the cookie the state is bound to.
    expect(auth.location).toBe(
      `https://open.weixin.qq.com/connect/oauth2/authorize?appid=${OFFICIAL_APP_ID}` +
        `&redirect_uri=${encodeURIComponent(`${PUBLIC_BASE_URL}${OAUTH}/callback`)}` +
        `&response_type=code&scope=snsapi_base&state=${auth.state}#wechat_redirect`,
    );
    expect(auth.state).toMatch(/^[A-Za-z0-9]{1,128}$/);
    expect(auth.setCookie).toMatch(
      /^wxb_oauth=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/api\/v1\/auth\/wechat\/oauth; HttpOnly; SameSite=Lax; Secure$/,
    );

    // callback: back to the page with the ticket in the fragment.
    expect(cb.location).toBe(`${PAGE}#ticket=${ticket}`);
    expect(Buffer.from(ticket, 'base64url')).toHaveLength(32);

    expect(login.isNewUser).toBe(true);
    expectUserShape(login.user);
    const me = expectOk(
      await h.http().get('/api/v1/users/me').set('Authorization', `Bearer ${login.accessToken}`),
    );
    expect(me.id).toBe(login.user.id);

    const [grant] = h.fake.requests('oauth_access_token').slice(-1);
    expect(grant.query).toMatchObject({
      appid: OFFICIAL_APP_ID,
      secret: OFFICIAL_APP_SECRET,
      grant_type: 'authorization_code',
    });
    expect(h.fake.requests('sns_userinfo')).toHaveLength(0);
    for (const res of answers) expectNoSecrets(res, [openid, OFFICIAL_APP_SECRET]);
    for (const url of [auth.location, cb.location]) {
      expect(url).not.toContain(login.accessToken);
      expect(url).not.toContain(login.refreshToken);
    }

    // The same person again: the same user.
    const again = await b.signIn('snsapi_base', { openid });
    expect(again.login).toMatchObject({ isNewUser: false, user: { id: login.user.id } });
  });

  it('snsapi_userinfo: nickname and avatar fill empty fields; WeChat’s user token is never kept', async () => {
    const identity = {
      openid: oaOpenid(),
      unionid: unionid(),
      nickname: '小明',
      headimgurl: 'https://thirdwx.qlogo.cn/mmopen/e2e/132',
    };
    const { login, answers } = await b.signIn('snsapi_userinfo', identity);
    expect(login.user).toMatchObject({
      nickname: '小明',
      avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/e2e/132',
    });
    const [info] = h.fake.requests('sns_userinfo').slice(-1);
    expect(info.query.openid).toBe(identity.openid);
    for (const res of answers)
      expectNoSecrets(res, [identity.openid, identity.unionid, info.query.access_token]);
    const dump = await h.dumpDatabase();
    expect(dump).not.toContain(info.query.access_token);

    // Fill only: a name the user chose stays.
    await h
      .http()
      .patch('/api/v1/users/me')
      .set('Authorization', `Bearer ${login.accessToken}`)
      .send({ nickname: 'chosen' })
      .expect(200);
    const again = await b.signIn('snsapi_userinfo', { ...identity, nickname: '另一个' });
    expect(again.login.user).toMatchObject({ id: login.user.id, nickname: 'chosen' });
  });

  it('authorize refuses a redirect that is not absolute http(s), has # or is too long (40000), or is not allowed (40004)', async () => {
    const get = (query: Record<string, string>) => h.http().get(`${OAUTH}/authorize`).query(query);
    expectValidationError(await get({}), 'redirect');
    for (const redirect of [
      '/after-login',
      'h5.e2e.example/x',
      'ftp://h5.e2e.example/x',
      'javascript:alert(1)',
      'https://h5.e2e.example/x#frag',
      `https://h5.e2e.example/${'a'.repeat(1002)}`,
    ]) {
      expectValidationError(await get({ redirect }), 'redirect');
    }
    expectValidationError(await get({ redirect: PAGE, scope: 'snsapi_login' }), 'scope');
    expectValidationError(await get({ redirect: PAGE, extra: '1' }));
    for (const redirect of [
      'https://evil.e2e.example/x',
      'http://h5.e2e.example/x',
      'https://h5.e2e.example:8443/x',
      'https://user@h5.e2e.example/x',
      'https://user:pw@h5.e2e.example/x',
    ]) {
      const res = await get({ redirect });
      expectError(res, 40004);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    // 1,024 characters exactly, an allowed origin with its default port written out.
    const longest = `https://h5.e2e.example/${'a'.repeat(1001)}`;
    expect((await get({ redirect: longest })).status).toBe(302);
    expect((await get({ redirect: 'https://h5.e2e.example:443/x' })).status).toBe(302);
    expect((await get({ redirect: 'http://127.0.0.1:8080/x' })).status).toBe(302);
  });

  it('a bad state is 400 / 40005 enveloped and not spent; a good one works once', async () => {
    const auth = await b.authorize();
    const other = await b.authorize();
    const step = h.fake.authorize(auth.location);
    const url = new URL(step.redirectTo);
    const withState = (state: string) => {
      const u = new URL(url);
      u.searchParams.set('state', state);
      return u.toString();
    };
    const altered = auth.state.slice(0, -1) + (auth.state.endsWith('0') ? '1' : '0');
    expectError(await b.follow(step.redirectTo, undefined), 40005);
    expectError(await b.follow(step.redirectTo, other.cookie), 40005);
    expectError(await b.follow(step.redirectTo, 'wxb_oauth=forged'), 40005);
    expectError(await b.follow(withState(altered), auth.cookie), 40005);
    expectError(await b.follow(withState('0'.repeat(74)), auth.cookie), 40005);
    expectError(await b.follow(`${url.origin}${url.pathname}?code=x`, auth.cookie), 40005);
    // The input rules of every route: no unknown parameter, none given twice (400 / 40000).
    expectValidationError(await b.follow(`${step.redirectTo}&extra=1`, auth.cookie), 'extra');
    expectValidationError(await b.follow(`${step.redirectTo}&state=${auth.state}`, auth.cookie), 'state');
    // Nothing above reached WeChat or spent the state.
    const exchanged = h.fake.calls('oauth_access_token');
    const ok = await b.follow(step.redirectTo, auth.cookie);
    expect(ok.status).toBe(302);
    expect(fragment(ok.headers.location as string)).toMatch(/^ticket=/);
    expect(h.fake.calls('oauth_access_token')).toBe(exchanged + 1);
    // Used: a reload or a replay is refused.
    expectError(await b.follow(step.redirectTo, auth.cookie), 40005);
  });

  it('every failure after a good state goes back to the page as #error=CODE, the state spent', async () => {
    const expectFragment = async (
      arrange: () => void,
      expected: string,
      options: { identity?: Partial<OAuthIdentity>; consent?: boolean } = {},
    ) => {
      const auth = await b.authorize();
      arrange();
      const cb = await b.callback(auth, options);
      expect(cb.location).toBe(`${PAGE}#error=${expected}`);
      return auth;
    };
    // No consent (no code), a snapshot-page virtual user.
    await expectFragment(() => undefined, '40006', { consent: false });
    await expectFragment(() => undefined, '40006', { identity: { snapshot: true } });
    // WeChat calls the code invalid or used.
    await expectFragment(() => h.fake.failNext('oauth_access_token', 40029), '40001');
    await expectFragment(() => h.fake.failNext('oauth_access_token', 40163), '40001');
    // Another WeChat error; no answer in time.
    await expectFragment(() => h.fake.failNext('oauth_access_token', 40013), '50200');
    await expectFragment(() => h.fake.delayNext('oauth_access_token', WECHAT_TIMEOUT_MS + 1000), '50400');

    // A code used once already, handed in with a fresh state: WeChat's 40163.
    const first = await b.authorize();
    const used = await b.callback(first);
    const second = await b.authorize();
    const step = h.fake.authorize(second.location);
    const replay = new URL(step.redirectTo);
    replay.searchParams.set('code', used.code!);
    const res = await b.follow(replay.toString(), second.cookie);
    expect(res.headers.location).toBe(`${PAGE}#error=40001`);
  });

  it('a disabled user: #error=40301', async () => {
    const openid = oaOpenid();
    const { login } = await b.signIn('snsapi_base', { openid });
    const admin = await h.loginAdmin();
    expectOk(
      await h
        .http()
        .patch(`/api/v1/users/${login.user.id}`)
        .set('Authorization', admin.bearer)
        .send({ status: 'disabled' }),
    );
    const cb = await b.callback(await b.authorize(), { identity: { openid } });
    expect(cb.location).toBe(`${PAGE}#error=40301`);
  });

  it('exchange: a ticket works once; of concurrent exchanges one wins; unknown ones are 401 / 40105', async () => {
    const auth = await b.authorize();
    const cb = await b.callback(auth);
    const ticket = fragment(cb.location).slice('ticket='.length);
    const results = await Promise.all([1, 2, 3, 4].map(() => b.exchange(ticket)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 200)) expectError(res, 40105);
    expectError(await b.exchange(ticket), 40105);
    expectError(await b.exchange(randomBytes(32).toString('base64url')), 40105);
    expectError(await b.exchange('x'), 40105);
    expectValidationError(await b.exchange(undefined), 'ticket');
    expectValidationError(await b.exchange(42), 'ticket');
  });

  it('linking by unionid: an MP user signing in on the web is the same user, and the other way round', async () => {
    const u1 = unionid();
    const mp = await h.login(undefined, { unionid: u1 });
    const web = await b.signIn('snsapi_userinfo', { openid: oaOpenid(), unionid: u1 });
    expect(web.login).toMatchObject({ isNewUser: false, user: { id: mp.user.id } });

    const u2 = unionid();
    const first = await b.signIn('snsapi_userinfo', { openid: oaOpenid(), unionid: u2 });
    expect(first.login.isNewUser).toBe(true);
    const later = await h.login(undefined, { unionid: u2 });
    expect(later).toMatchObject({ isNewUser: false, user: { id: first.login.user.id } });
    expectNoSecrets(later.res, [u2, later.openid]);

    // snsapi_base gives no unionid: a person not yet linked becomes a user of its own.
    const u3 = unionid();
    const mp3 = await h.login(undefined, { unionid: u3 });
    const base = await b.signIn('snsapi_base', { openid: oaOpenid(), unionid: u3 });
    expect(base.login.isNewUser).toBe(true);
    expect(base.login.user.id).not.toBe(mp3.user.id);
  });

  it('first sign-ins of one person at once, on the web and in the mini-program: one user', async () => {
    const u = unionid();
    const openid = oaOpenid();
    const mpOpenid = `o_e2e_race_${randomBytes(6).toString('hex')}`;
    const starts = await Promise.all([1, 2, 3, 4].map(() => b.authorize('snsapi_userinfo')));
    const [callbacks, logins] = await Promise.all([
      Promise.all(starts.map((auth) => b.callback(auth, { identity: { openid, unionid: u } }))),
      Promise.all([1, 2, 3, 4].map(() => h.login(mpOpenid, { unionid: u }))),
    ]);
    const exchanged = await Promise.all(
      callbacks.map(async (cb) => expectOk(await b.exchange(fragment(cb.location).slice('ticket='.length)))),
    );
    const ids = new Set([...exchanged.map((x) => x.user.id as string), ...logins.map((l) => l.user.id)]);
    expect(ids.size).toBe(1);
    const created = [...exchanged.map((x) => x.isNewUser as boolean), ...logins.map((l) => l.isNewUser)];
    expect(created.filter(Boolean)).toHaveLength(1);
  });

  it('an erased user: the same person signing in again is a new user', async () => {
    const identity = { openid: oaOpenid(), unionid: unionid() };
    const { login } = await b.signIn('snsapi_userinfo', identity);
    const admin = await h.loginAdmin();
    expectOk(await h.http().delete(`/api/v1/users/${login.user.id}`).set('Authorization', admin.bearer));
    const dump = await h.dumpDatabase();
    expect(dump).not.toContain(identity.openid);
    expect(dump).not.toContain(identity.unionid);
    const again = await b.signIn('snsapi_userinfo', identity);
    expect(again.login.isNewUser).toBe(true);
    expect(again.login.user.id).not.toBe(login.user.id);
  });

  // Last: the breaker is shared by every WeChat call of this app.
  it('WeChat unreachable five times: the breaker opens and the page gets #error=50300', async () => {
    for (let i = 0; i < 5; i++) {
      const auth = await b.authorize();
      h.fake.http500Next('oauth_access_token');
      const cb = await b.callback(auth);
      expect(fragment(cb.location)).toMatch(/^error=50(200|300)$/);
    }
    const cb = await b.callback(await b.authorize());
    expect(cb.location).toBe(`${PAGE}#error=50300`);
  });
});

describe('web sign-in with the unionid a follower told', () => {
  let h: Harness;
  let b: ReturnType<typeof browser>;
  const oa = new OaCallbackBuilder({ token: OA_ENV.WECHAT_OA_TOKEN, appId: OFFICIAL_APP_ID });

  beforeAll(async () => {
    h = await startHarness({ env: OA_ENV });
    b = browser(h);
  });
  afterAll(() => h?.close());

  /** `openid` follows the official account; WeChat's user/info tells `unionid` (if any). */
  async function subscribe(openid: string, unionid?: string): Promise<void> {
    h.fake.follow(openid, { unionid });
    const req = oa.plaintext(oa.event({ from: openid, event: 'subscribe' }));
    const res = await h.http().post(req.path).set('Content-Type', 'text/xml').send(req.body);
    expect(res.status).toBe(200);
  }

  it('an MP user who then follows gains the OA openid; a silent web sign-in is that user', async () => {
    const u = unionid();
    const mp = await h.login(undefined, { unionid: u });
    const openid = oaOpenid();
    await subscribe(openid, u);
    const web = await b.signIn('snsapi_base', { openid });
    expect(web.login).toMatchObject({ isNewUser: false, user: { id: mp.user.id } });
  });

  it('a follower first, the MP login later: the silent web sign-in finds the MP user by the recorded unionid', async () => {
    const u = unionid();
    const openid = oaOpenid();
    await subscribe(openid, u);
    const mp = await h.login(undefined, { unionid: u });
    expect(mp.isNewUser).toBe(true);
    const web = await b.signIn('snsapi_base', { openid });
    expect(web.login).toMatchObject({ isNewUser: false, user: { id: mp.user.id } });
    // From now on the OA openid is the user's own.
    const again = await b.signIn('snsapi_base', { openid });
    expect(again.login.user.id).toBe(mp.user.id);
  });

  it('a follower who signs in on the web and is then erased: the follower record goes with them', async () => {
    const openid = oaOpenid();
    // user/info tells no unionid: only the web sign-in ties this follower to a user.
    await subscribe(openid);
    const web = await b.signIn('snsapi_base', { openid });
    expect(web.login.isNewUser).toBe(true);
    const admin = await h.loginAdmin();
    expectOk(await h.http().delete(`/api/v1/users/${web.login.user.id}`).set('Authorization', admin.bearer));
    expect(await h.dumpDatabase()).not.toContain(openid);
  });
});

describe('web sign-in without an official account', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      env: { PUBLIC_BASE_URL, OAUTH_REDIRECT_ALLOWLIST: OA_ENV.OAUTH_REDIRECT_ALLOWLIST },
    });
  });
  afterAll(() => h?.close());

  it('every route answers 404 / 40400', async () => {
    expectError(await h.http().get(`${OAUTH}/authorize`).query({ redirect: PAGE }), 40400);
    expectError(await h.http().get(`${OAUTH}/callback`).query({ code: 'c', state: 's' }), 40400);
    expectError(await h.http().post(`${OAUTH}/exchange`).send({ ticket: 't' }), 40400);
  });
});

describe('web sign-in in the login rate limit (RATE_LIMIT_LOGIN=3)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { ...OA_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN: '3' } });
  });
  afterAll(() => h?.close());

  it('authorize, callback and exchange each count', async () => {
    const b = browser(h);
    const auth = await b.authorize();
    const cb = await b.callback(auth);
    const ticket = fragment(cb.location).slice('ticket='.length);
    expectOk(await b.exchange(ticket));
    expectError(await h.http().get(`${OAUTH}/authorize`).query({ redirect: PAGE }), 42900);
  });
});

describe('web sign-in across two instances sharing Redis', () => {
  // A database of its own (the cluster suites use 9-13 and 15, the integration tests 14).
  const REDIS = 'redis://127.0.0.1:6379/8';
  let a: Harness;
  let c: Harness;
  let redis: Redis;

  beforeAll(async () => {
    const shared = {
      ...OA_ENV,
      REDIS_URL: REDIS,
      JWT_SECRET: `e2e-oauth-${randomBytes(24).toString('hex')}`,
    };
    a = await startHarness({ env: shared });
    c = await startHarness({
      env: { ...shared, DATABASE_URL: a.env.DATABASE_URL, WECHAT_API_BASE_URL: a.fake.url },
    });
    redis = new Redis(REDIS);
    // Until their Redis connections are up, the instances answer 503 (commands are not queued).
    for (const h of [a, c]) {
      while ((await h.http().get('/api/v1/health/ready')).status !== 200) {
        // ready reports Redis up
      }
    }
  });
  afterAll(async () => {
    redis?.disconnect();
    await c?.close();
    await a?.close();
  });

  it('a state made on one instance is spent on the other, its ticket exchanged on the first, once', async () => {
    const onA = browser(a);
    const onC = browser(c);
    const auth = await onA.authorize();
    const stateTtl = await redis.pttl(`wxb:oauth:state:${auth.state.slice(0, 32)}`);
    expect(stateTtl).toBeGreaterThan(595_000);
    expect(stateTtl).toBeLessThanOrEqual(600_000);
    const step = a.fake.authorize(auth.location);
    const cb = await onC.follow(step.redirectTo, auth.cookie);
    const ticket = fragment(cb.headers.location as string).slice('ticket='.length);
    // The state is gone for the first instance too.
    expectError(await onA.follow(step.redirectTo, auth.cookie), 40005);

    const key = `wxb:oauth:ticket:${createHash('sha256').update(ticket).digest('hex')}`;
    const ticketTtl = await redis.pttl(key);
    expect(ticketTtl).toBeGreaterThan(55_000);
    expect(ticketTtl).toBeLessThanOrEqual(60_000);
    const results = await Promise.all([onA.exchange(ticket), onC.exchange(ticket), onA.exchange(ticket)]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await redis.exists(key)).toBe(0);
  });

  it('a ticket past its 60 s is 40105', async () => {
    const b = browser(a);
    const cb = await b.callback(await b.authorize());
    const ticket = fragment(cb.location).slice('ticket='.length);
    // Redis ends the ticket at its TTL (60 s, checked above); here that moment is brought forward.
    const key = `wxb:oauth:ticket:${createHash('sha256').update(ticket).digest('hex')}`;
    await redis.pexpire(key, 1);
    while ((await redis.pttl(key)) !== -2) {
      // Redis reports the key gone once its time has passed.
    }
    expectError(await b.exchange(ticket), 40105);
  });
});
