import type { Response } from 'supertest';
import {
  decodeJwt,
  expectError,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type Tokens,
} from '../support/app-harness.js';

const REFRESH = '/api/v1/auth/refresh';
const LOGOUT = '/api/v1/auth/logout';
const ME = '/api/v1/users/me';

describe('POST /api/v1/auth/refresh and /api/v1/auth/logout', () => {
  let h: Harness;

  const refresh = async (refreshToken: unknown): Promise<Response> =>
    h.http().post(REFRESH).send({ refreshToken });
  const me = async (accessToken: string): Promise<Response> =>
    h.http().get(ME).set('Authorization', `Bearer ${accessToken}`);
  const logout = async (accessToken: string, body: Record<string, unknown> = {}): Promise<Response> =>
    h.http().post(LOGOUT).set('Authorization', `Bearer ${accessToken}`).send(body);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('refresh', () => {
    it('hands a new pair for the same login and spends the old refresh token', async () => {
      const login = await h.login();
      const data = expectOk(await refresh(login.tokens.refreshToken)) as Tokens;
      expect(data).toMatchObject({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshExpiresIn: expect.any(Number),
      });
      expect(data.refreshExpiresIn).toBeGreaterThan(2592000 - 60);
      expect(data.refreshExpiresIn).toBeLessThanOrEqual(2592000);
      expect(data.refreshToken).not.toBe(login.tokens.refreshToken);
      const before = decodeJwt(login.tokens.accessToken);
      const after = decodeJwt(data.accessToken);
      expect(after.sub).toBe(before.sub);
      expect(after.sid).toBe(before.sid);
      expect(expectOk(await me(data.accessToken)).id).toBe(login.user.id);

      // The new refresh token works in turn.
      expectOk(await refresh(data.refreshToken));
    });

    it('treats a spent refresh token as reuse: 40103, and every token of that login stops', async () => {
      const login = await h.login();
      const other = await h.login(login.openid); // another device of the same user
      const rotated = expectOk(await refresh(login.tokens.refreshToken)) as Tokens;

      expectError(await refresh(login.tokens.refreshToken), 40103);

      // The pair handed out by the rotation is dead too, and so is the first access token.
      expectError(await me(rotated.accessToken), 40100);
      expectError(await me(login.tokens.accessToken), 40100);
      expectError(await refresh(rotated.refreshToken), 40102);

      // The user's other login is untouched.
      expectOk(await me(other.tokens.accessToken));
      expectOk(await refresh(other.tokens.refreshToken));
    });

    it('lets exactly one of 8 concurrent refreshes of one token through', async () => {
      const login = await h.login();
      const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(login.tokens.refreshToken)));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expect(res.status).toBe(401);
        expect([40102, 40103]).toContain(res.body.code);
      }
    });

    it('answers 40102 for an unknown refresh token', async () => {
      expectError(await refresh('r'.repeat(64)), 40102);
      // One of the same form as a real one, with one character changed.
      const { refreshToken } = (await h.login()).tokens;
      const last = refreshToken.at(-1) === 'A' ? 'B' : 'A';
      expectError(await refresh(refreshToken.slice(0, -1) + last), 40102);
    });

    it.each([
      ['missing', {}],
      ['empty', { refreshToken: '' }],
      ['a number', { refreshToken: 42 }],
      ['an object', { refreshToken: { token: 'x' } }],
    ])('refuses a refresh token that is %s with 40000', async (_label, body) => {
      expectValidationError(await h.http().post(REFRESH).send(body), 'refreshToken');
    });

    it('refuses unknown body properties with 40000', async () => {
      const login = await h.login();
      const res = await h.http().post(REFRESH).send({ refreshToken: login.tokens.refreshToken, userId: '1' });
      expectValidationError(res, 'userId');
      // A refused request spends nothing.
      expectOk(await refresh(login.tokens.refreshToken));
    });
  });

  describe('logout', () => {
    it('stops the access and refresh tokens of the session at once, and only that session', async () => {
      const login = await h.login();
      const other = await h.login(login.openid);
      const res = await logout(login.tokens.accessToken);
      expect(expectOk(res)).toBeNull();

      expectError(await me(login.tokens.accessToken), 40100);
      expectError(await refresh(login.tokens.refreshToken), 40102);
      expectError(await logout(login.tokens.accessToken), 40100);

      expectOk(await me(other.tokens.accessToken));
    });

    it('also stops tokens rotated by a refresh before the logout', async () => {
      const login = await h.login();
      const rotated = expectOk(await refresh(login.tokens.refreshToken)) as Tokens;
      expectOk(await logout(login.tokens.accessToken));
      expectError(await me(rotated.accessToken), 40100);
      expectError(await refresh(rotated.refreshToken), 40102);
    });

    it('with allDevices ends every login of the user, and no one else', async () => {
      const a = await h.login();
      const b = await h.login(a.openid);
      const c = await h.login(a.openid);
      const stranger = await h.login();

      expect(expectOk(await logout(b.tokens.accessToken, { allDevices: true }))).toBeNull();

      for (const login of [a, b, c]) {
        expectError(await me(login.tokens.accessToken), 40100);
        expectError(await refresh(login.tokens.refreshToken), 40102);
      }
      expectOk(await me(stranger.tokens.accessToken));

      // Logging in again works.
      const again = await h.login(a.openid);
      expect(again.user.id).toBe(a.user.id);
      expectOk(await me(again.tokens.accessToken));
    });

    it('with allDevices false ends only this login', async () => {
      const a = await h.login();
      const b = await h.login(a.openid);
      expectOk(await logout(a.tokens.accessToken, { allDevices: false }));
      expectError(await me(a.tokens.accessToken), 40100);
      expectOk(await me(b.tokens.accessToken));
    });

    it('needs a bearer token', async () => {
      expectError(await h.http().post(LOGOUT).send({}), 40100);
    });

    it('refuses a non-boolean allDevices and unknown properties with 40000, logging nothing out', async () => {
      const login = await h.login();
      expectValidationError(await logout(login.tokens.accessToken, { allDevices: 'yes' }), 'allDevices');
      expectValidationError(await logout(login.tokens.accessToken, { everything: true }), 'everything');
      expectOk(await me(login.tokens.accessToken));
    });
  });
});
