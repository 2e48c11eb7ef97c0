import type { Test } from 'supertest';
import {
  ADMIN_OPENIDS,
  JWT_AUDIENCE,
  JWT_ISSUER,
  decodeJwt,
  expectEnvelope,
  expectError,
  expectOk,
  expectValidationError,
  forgeJwt,
  nowSec,
  reforge,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

const ME = '/api/v1/users/me';

describe('envelope, request ids and hostile input', () => {
  let h: Harness;
  let login: LoginResult;
  let admin: LoginResult;

  const me = (authorization?: string): Test => {
    const req = h.http().get(ME);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  beforeAll(async () => {
    h = await startHarness();
    login = await h.login();
    admin = await h.login(ADMIN_OPENIDS[0]);
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('X-Request-Id', () => {
    it.each([['abc-123'], ['A.b_c:d-e'], ['x'.repeat(128)], ['0']])(
      'echoes a sane id (%s) in the header and the body',
      async (id) => {
        const res = await me(login.bearer).set('X-Request-Id', id);
        expectOk(res);
        expect(res.body.requestId).toBe(id);
        expect(res.headers['x-request-id']).toBe(id);
      },
    );

    it('echoes it on errors too', async () => {
      const res = await h.http().get('/api/v1/nothing-here').set('X-Request-Id', 'trace-42');
      expectError(res, 40400);
      expect(res.body.requestId).toBe('trace-42');
    });

    it.each([
      ['200 characters', 'x'.repeat(200)],
      ['129 characters', 'y'.repeat(129)],
      ['spaces', 'has spaces in it'],
      ['a slash and quotes', 'a/b"c'],
      ['an injected log line', 'ok\\nlevel=error'],
    ])('replaces an id with %s by a new sane one', async (_label, id) => {
      const res = await me(login.bearer).set('X-Request-Id', id);
      expectOk(res);
      expect(res.body.requestId).not.toBe(id);
      expect(res.body.requestId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    });

    it('makes a new id for every request without one', async () => {
      const [a, b] = await Promise.all([me(login.bearer), me(login.bearer)]);
      expect(expectEnvelope(a).requestId).not.toBe(expectEnvelope(b).requestId);
    });
  });

  describe('routes', () => {
    it.each([
      ['GET', '/api/v1/nothing-here'],
      ['POST', '/api/v1/auth/nothing'],
      ['GET', '/nothing-here'],
      ['GET', '/api/v2/users/me'],
      ['PUT', '/api/v1/users/me'],
      ['DELETE', '/api/v1/auth/wechat/login'],
      ['GET', '/api/v1/auth/wechat/login'],
    ])('answers 404 / 40400 in the envelope for %s %s', async (method, path) => {
      const req = h.http()[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path);
      expectError(await req.set('Authorization', login.bearer), 40400);
    });

    // Fastify's router refuses these before any hook runs; they must still leave in the envelope.
    it.each([
      ['a malformed %-escape in an id', '/api/v1/users/%zz'],
      ['a truncated UTF-8 escape in an id', '/api/v1/users/%E0%A4%A'],
      ['a malformed %-escape in an unknown route', '/api/v1/nothing%zz'],
      ['an id longer than the router takes', `/api/v1/users/${'x'.repeat(5000)}`],
    ])('answers 404 / 40400 in the envelope with its request id for %s', async (_label, path) => {
      const res = await h
        .http()
        .get(path)
        .set('Authorization', admin.bearer)
        .set('X-Request-Id', 'bad-url-7');
      expectError(res, 40400);
      expect(res.body.requestId).toBe('bad-url-7');
    });
  });

  describe('bodies', () => {
    it('answers 413 / 41300 for a 2 MB body', async () => {
      const big = JSON.stringify({ code: 'a'.repeat(2 * 1024 * 1024) });
      const res = await h
        .http()
        .post('/api/v1/auth/wechat/login')
        .set('Content-Type', 'application/json')
        .send(big);
      expectError(res, 41300);
      const authed = await h
        .http()
        .patch(ME)
        .set('Authorization', login.bearer)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ nickname: 'n'.repeat(2 * 1024 * 1024) }));
      expectError(authed, 41300);
    });

    it('accepts a body just under 1 MiB (then judges its content)', async () => {
      const body = JSON.stringify({ nickname: 'n'.repeat(1024 * 1024 - 100) });
      const res = await h
        .http()
        .patch(ME)
        .set('Authorization', login.bearer)
        .set('Content-Type', 'application/json')
        .send(body);
      expectValidationError(res, 'nickname');
    });

    it.each([
      ['broken JSON', '{"code": "abc"'],
      ['a trailing comma', '{"code": "abc",}'],
      ['a bare string', '"abc"'],
      ['an array', '[{"code": "abc"}]'],
      ['null', 'null'],
      ['a number', '42'],
    ])('answers 400 / 40000 for %s', async (_label, body) => {
      const res = await h
        .http()
        .post('/api/v1/auth/wechat/login')
        .set('Content-Type', 'application/json')
        .send(body);
      expectError(res, 40000);
    });

    it('answers a 4xx envelope for a body that is not JSON', async () => {
      const res = await h
        .http()
        .post('/api/v1/auth/wechat/login')
        .set('Content-Type', 'text/plain')
        .send('code=abc');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(Math.floor(expectEnvelope(res).code / 100)).toBe(res.status);
    });

    it('refuses a form-encoded body with 400 / 40000 (bodies are JSON), without calling WeChat', async () => {
      const before = h.fake.calls('jscode2session');
      const res = await h
        .http()
        .post('/api/v1/auth/wechat/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(`code=${h.fake.newCode()}`);
      expectError(res, 40000);
      expect(h.fake.calls('jscode2session')).toBe(before);
    });

    it.each([
      ['login', 'post', '/api/v1/auth/wechat/login', `${'['.repeat(5000)}${']'.repeat(5000)}`],
      ['login', 'post', '/api/v1/auth/wechat/login', `{"code":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`],
      ['profile', 'patch', ME, `{"nickname":${'['.repeat(20000)}${']'.repeat(20000)}}`],
    ] as const)(
      'answers 400 / 40000 for JSON nested thousands of levels deep (%s), never a 5xx',
      async (_label, method, path, body) => {
        const res = await h
          .http()
          [method](path)
          .set('Authorization', login.bearer)
          .set('Content-Type', 'application/json')
          .send(body);
        expectError(res, 40000);
      },
    );

    it('refuses prototype pollution attempts without a 5xx', async () => {
      const res = await h
        .http()
        .post('/api/v1/auth/wechat/login')
        .set('Content-Type', 'application/json')
        .send('{"code":"abc","__proto__":{"role":"admin"}}');
      expect(res.status).toBe(400);
      expect(expectEnvelope(res).code).toBe(40000);
      const ctor = await h
        .http()
        .patch(ME)
        .set('Authorization', login.bearer)
        .set('Content-Type', 'application/json')
        .send('{"constructor":{"prototype":{"role":"admin"}}}');
      expect(ctor.status).toBe(400);
      expect(expectOk(await me(login.bearer)).role).toBe('user');
    });

    const long = 'x'.repeat(5000);
    const hostileBodies: unknown[] = [
      { code: long },
      { code: 1 },
      { code: true },
      { code: { nested: long } },
      { refreshToken: long },
      { refreshToken: [] },
      { nickname: long },
      { avatarUrl: `https://${long}.example.com` },
      { gender: long },
      { encryptedData: long, iv: long },
      { allDevices: long },
      { status: long, role: long },
      { [long]: 1 },
      [],
      [1, 2, 3],
    ];
    const targets: Array<[string, 'post' | 'patch', string, boolean]> = [
      ['login', 'post', '/api/v1/auth/wechat/login', false],
      ['refresh', 'post', '/api/v1/auth/refresh', false],
      ['logout', 'post', '/api/v1/auth/logout', true],
      ['profile', 'patch', ME, true],
      ['phone', 'post', '/api/v1/users/me/phone', true],
      ['decrypt', 'post', '/api/v1/wechat/decrypt', true],
      ['admin patch', 'patch', '/api/v1/users/{id}', true],
    ];

    // 40000 mostly; a long string with no length limit in the contract may instead reach its own check:
    // a phone code WeChat refuses (40001), an unknown refresh token (40102), data that does not decrypt (40104).
    const acceptable = [40000, 40001, 40102, 40104];

    it.each(targets)(
      'answers every hostile body to %s with a 4xx envelope, never a 5xx',
      async (...target) => {
        const [, method, pathTemplate, auth] = target;
        const path = pathTemplate.replace('{id}', login.user.id);
        // A login of its own, so that a body wrongly accepted (a logout) cannot spoil other tests.
        const caller = pathTemplate.includes('{id}') ? admin : await h.login();
        for (const body of hostileBodies) {
          let req = h.http()[method](path).set('Content-Type', 'application/json');
          if (auth) req = req.set('Authorization', caller.bearer);
          const res = await req.send(JSON.stringify(body));
          const context = `${method} ${path} ${JSON.stringify(body).slice(0, 60)} → ${res.status} ${res.body?.code}`;
          expect([context, res.status >= 400 && res.status < 500]).toEqual([context, true]);
          expectEnvelope(res);
          expect([context, acceptable.includes(res.body.code)]).toEqual([context, true]);
        }
        // Nothing was broken along the way.
        expectOk(await me(caller.bearer));
      },
    );

    it('answers hostile query strings on the admin list with 400 / 40000, never a 5xx', async () => {
      for (const query of [
        `?q=${'x'.repeat(5000)}`,
        '?page=99999999999999999999999',
        '?pageSize=1e2',
        '?page[]=1',
        '?status[$ne]=active',
        '?q=%27%20OR%201%3D1%20--',
        '?q=%25%25%25',
      ]) {
        const res = await h.http().get(`/api/v1/users${query}`).set('Authorization', admin.bearer);
        const context = `${query.slice(0, 40)} → ${res.status}`;
        expect([context, res.status === 200 || res.status === 400]).toEqual([context, true]);
        expectEnvelope(res);
        if (res.status === 200) expect(res.body.data.items).toEqual(expect.any(Array));
      }
      // A q with SQL meta-characters finds nothing rather than everything.
      const injected = expectOk(
        await h.http().get('/api/v1/users?q=%27%20OR%20%271%27%3D%271').set('Authorization', admin.bearer),
      );
      expect(injected.total).toBe(0);
    });

    it('treats LIKE wildcards in q as plain characters', async () => {
      const total = expectOk(await h.http().get('/api/v1/users').set('Authorization', admin.bearer)).total;
      expect(total).toBeGreaterThanOrEqual(2);
      for (const q of ['%', '_', '%25%25']) {
        const res = await h
          .http()
          .get(`/api/v1/users?q=${encodeURIComponent(q)}`)
          .set('Authorization', admin.bearer);
        expect([q, expectOk(res).total]).toEqual([q, 0]);
      }
    });
  });

  describe('hostile access tokens', () => {
    const claims = () => decodeJwt(login.tokens.accessToken);

    it.each([
      ['no Authorization header', undefined],
      ['an empty header', ''],
      ['Bearer with nothing', 'Bearer '],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['a malformed token', 'Bearer not.a.jwt'],
      ['garbage', 'Bearer ' + 'x'.repeat(5000)],
      ['two dots and nothing', 'Bearer ..'],
    ])('answers 40100 for %s', async (_label, header) => {
      expectError(await me(header), 40100);
    });

    it('answers 40100 for a token signed with another secret', async () => {
      const token = forgeJwt({ ...claims() }, { secret: 'another-secret-that-is-long-enough-000000' });
      expectError(await me(`Bearer ${token}`), 40100);
    });

    it('answers 40100 for an unsigned token (alg none), with or without a signature part', async () => {
      const none = forgeJwt({ ...claims() }, { alg: 'none' });
      expectError(await me(`Bearer ${none}`), 40100);
      const [head, body] = none.split('.');
      const real = login.tokens.accessToken.split('.')[2];
      expectError(await me(`Bearer ${head}.${body}.${real}`), 40100);
      const noneUpper = forgeJwt({ ...claims() }, { alg: 'none', header: { alg: 'NONE' } });
      expectError(await me(`Bearer ${noneUpper}`), 40100);
    });

    it('answers 40100 for the right secret with another algorithm (HS512)', async () => {
      expectError(await me(`Bearer ${reforge(h, login.tokens.accessToken, {}, { alg: 'HS512' })}`), 40100);
    });

    it('answers 40100 for a wrong issuer or audience, or none at all', async () => {
      for (const changes of [
        { iss: 'someone-else' },
        { aud: 'another-audience' },
        { iss: undefined },
        { aud: undefined },
        { aud: [JWT_AUDIENCE + 'x'] },
        { iss: JWT_ISSUER.toUpperCase() },
      ]) {
        expectError(await me(`Bearer ${reforge(h, login.tokens.accessToken, changes)}`), 40100);
      }
      // Control: the same re-signing with nothing changed is accepted.
      expectOk(await me(`Bearer ${reforge(h, login.tokens.accessToken, {})}`));
    });

    it('answers 40100 for a token whose sub or sid does not match a live login', async () => {
      const other = await h.login();
      const otherClaims = decodeJwt(other.tokens.accessToken);
      for (const changes of [
        { sub: otherClaims.sub }, // someone else's user id on this session
        { sid: otherClaims.sid }, // someone else's session for this user
        { sid: 'no-such-session' },
        { sid: undefined },
        { sub: undefined },
        { sub: 12345 },
      ]) {
        expectError(await me(`Bearer ${reforge(h, login.tokens.accessToken, changes)}`), 40100);
      }
    });

    it('answers 40101 for an expired token signed with the right secret', async () => {
      const expired = reforge(h, login.tokens.accessToken, { iat: nowSec() - 3600, exp: nowSec() - 60 });
      const res = await me(`Bearer ${expired}`);
      expectError(res, 40101);
    });

    it('answers 40100 (not 40101) for an expired token with a bad signature', async () => {
      const expired = forgeJwt(
        { ...claims(), iat: nowSec() - 3600, exp: nowSec() - 60 },
        { secret: 'another-secret-that-is-long-enough-000000' },
      );
      expectError(await me(`Bearer ${expired}`), 40100);
    });

    it('answers 40100 for a token not yet valid (nbf in the future)', async () => {
      const early = reforge(h, login.tokens.accessToken, { nbf: nowSec() + 3600 });
      expectError(await me(`Bearer ${early}`), 40100);
    });
  });
});
