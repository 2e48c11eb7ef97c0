import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  ADMIN_OPENIDS,
  expectError,
  expectNoSecrets,
  expectOk,
  expectUserShape,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
  type UserView,
} from '../support/app-harness.js';

const USERS = '/api/v1/users';

/** An id of the same form as `id` that no user has. */
function unknownIdLike(id: string): string {
  if (/^\d+$/.test(id)) return String(BigInt(id) + 1_000_000n);
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return randomUUID();
  const last = id.at(-1) === '0' ? '1' : '0';
  return id.slice(0, -1) + last;
}

describe('admin: /api/v1/users', () => {
  let h: Harness;
  let admin: LoginResult;
  let plain: LoginResult;

  const as = (who: LoginResult) => ({
    list: async (query = ''): Promise<Response> =>
      h.http().get(`${USERS}${query}`).set('Authorization', who.bearer),
    get: async (id: string): Promise<Response> =>
      h.http().get(`${USERS}/${id}`).set('Authorization', who.bearer),
    patch: async (id: string, body: unknown): Promise<Response> =>
      h
        .http()
        .patch(`${USERS}/${id}`)
        .set('Authorization', who.bearer)
        .send(body as object),
    remove: async (id: string): Promise<Response> =>
      h.http().delete(`${USERS}/${id}`).set('Authorization', who.bearer),
  });
  const me = async (who: LoginResult): Promise<Response> =>
    h.http().get('/api/v1/users/me').set('Authorization', who.bearer);

  /** Every user id the admin list shows, all pages. */
  const listedIds = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (let page = 1; ; page++) {
      const data = expectOk(await as(admin).list(`?page=${page}&pageSize=100`));
      ids.push(...(data.items as UserView[]).map((u) => u.id));
      if (ids.length >= data.total || data.items.length === 0) return ids;
    }
  };

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
    plain = await h.login();
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('access', () => {
    it('refuses every admin route to a user with 40300', async () => {
      const id = plain.user.id;
      expectError(await as(plain).list(), 40300);
      expectError(await as(plain).get(id), 40300);
      expectError(await as(plain).patch(id, { role: 'admin' }), 40300);
      expectError(await as(plain).remove(id), 40300);
      expect(expectOk(await me(plain)).role).toBe('user');
    });

    it('refuses every admin route without a token with 40100', async () => {
      const id = plain.user.id;
      expectError(await h.http().get(USERS), 40100);
      expectError(await h.http().get(`${USERS}/${id}`), 40100);
      expectError(await h.http().patch(`${USERS}/${id}`).send({ status: 'disabled' }), 40100);
      expectError(await h.http().delete(`${USERS}/${id}`), 40100);
    });
  });

  describe('list', () => {
    it('pages through users with defaults page 1 and pageSize 20', async () => {
      const res = await as(admin).list();
      const data = expectOk(res);
      expect(data).toEqual({ items: expect.any(Array), total: expect.any(Number), page: 1, pageSize: 20 });
      expect(data.total).toBeGreaterThanOrEqual(2);
      data.items.forEach((u: unknown) => expectUserShape(u));
      expectNoSecrets(res, [
        admin.openid,
        plain.openid,
        admin.sessionKey,
        plain.sessionKey,
        ...ADMIN_OPENIDS,
      ]);

      const one = expectOk(await as(admin).list('?page=1&pageSize=1'));
      expect(one).toMatchObject({ page: 1, pageSize: 1, total: data.total });
      expect(one.items).toHaveLength(1);
      const second = expectOk(await as(admin).list('?page=2&pageSize=1'));
      expect(second.items).toHaveLength(1);
      expect(second.items[0].id).not.toBe(one.items[0].id);
      const beyond = expectOk(await as(admin).list(`?page=${data.total + 5}&pageSize=100`));
      expect(beyond).toMatchObject({ items: [], total: data.total });
    });

    it('filters by status and finds users by q', async () => {
      const target = await h.login();
      const nickname = `findme-${Date.now()}`;
      expectOk(
        await h.http().patch('/api/v1/users/me').set('Authorization', target.bearer).send({ nickname }),
      );
      const found = expectOk(await as(admin).list(`?q=${encodeURIComponent(nickname)}`));
      expect(found.total).toBe(1);
      expect(found.items.map((u: UserView) => u.id)).toEqual([target.user.id]);
      expect(expectOk(await as(admin).list('?q=no-such-user-anywhere-zz')).total).toBe(0);

      expectOk(await as(admin).patch(target.user.id, { status: 'disabled' }));
      const disabled = expectOk(await as(admin).list('?status=disabled&pageSize=100'));
      expect(disabled.items.map((u: UserView) => u.id)).toContain(target.user.id);
      disabled.items.forEach((u: UserView) => expect(u.status).toBe('disabled'));
      const active = expectOk(await as(admin).list('?status=active&pageSize=100'));
      expect(active.items.map((u: UserView) => u.id)).not.toContain(target.user.id);
      active.items.forEach((u: UserView) => expect(u.status).toBe('active'));
    });

    it.each([
      ['page', '?page=0'],
      ['page', '?page=-1'],
      ['page', '?page=abc'],
      ['page', '?page=1.5'],
      ['pageSize', '?pageSize=0'],
      ['pageSize', '?pageSize=101'],
      ['pageSize', '?pageSize=ten'],
      ['status', '?status=banned'],
    ])('refuses %s outside its range (%s) with 40000', async (field, query) => {
      expectValidationError(await as(admin).list(query), field);
    });

    it('accepts the edges pageSize=100 and pageSize=1', async () => {
      expect(expectOk(await as(admin).list('?pageSize=100')).pageSize).toBe(100);
      expect(expectOk(await as(admin).list('?pageSize=1')).pageSize).toBe(1);
    });
  });

  describe('get and patch', () => {
    it('shows one user', async () => {
      const res = await as(admin).get(plain.user.id);
      const user = expectOk(res);
      expectUserShape(user);
      expect(user.id).toBe(plain.user.id);
      expectNoSecrets(res, [plain.openid, plain.sessionKey]);
    });

    it('answers 40400 for malformed and unknown ids', async () => {
      for (const id of [
        'not-an-id',
        '0',
        '-1',
        '1e3',
        "1'%20OR%20'1'='1",
        '%F0%9F%98%80',
        unknownIdLike(plain.user.id),
        plain.user.id + '0',
      ]) {
        expectError(await as(admin).get(id), 40400);
        expectError(await as(admin).patch(id, { status: 'active' }), 40400);
        expectError(await as(admin).remove(id), 40400);
      }
    });

    it('answers 40400 in the envelope for an id far too long (300 characters)', async () => {
      const id = 'x'.repeat(300);
      expectError(await as(admin).get(id), 40400);
      expectError(await as(admin).patch(id, { status: 'active' }), 40400);
      expectError(await as(admin).remove(id), 40400);
    });

    it('disables a user: login refused and live tokens refused on the next request (40301)', async () => {
      const user = await h.login();
      const user2 = await h.login(user.openid);
      const data = expectOk(await as(admin).patch(user.user.id, { status: 'disabled' }));
      expect(data).toMatchObject({ id: user.user.id, status: 'disabled' });

      expectError(await me(user), 40301);
      expectError(await me(user2), 40301);
      expectError(
        await h.http().post('/api/v1/auth/logout').set('Authorization', user.bearer).send({}),
        40301,
      );
      expectError(await h.postLogin(h.fake.newCode(user.openid)), 40301);
      const refresh = await h
        .http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: user.tokens.refreshToken });
      expect([401, 403]).toContain(refresh.status);
      expectError(refresh, refresh.status === 403 ? 40301 : 40102);

      expectOk(await as(admin).patch(user.user.id, { status: 'active' }));
      const back = await h.login(user.openid);
      expect(back.user.id).toBe(user.user.id);
      expect(back.user.status).toBe('active');
    });

    it('changes the role', async () => {
      const user = await h.login();
      expect(expectOk(await as(admin).patch(user.user.id, { role: 'admin' })).role).toBe('admin');
      const promoted = await h.login(user.openid);
      expect(promoted.user.role).toBe('admin');
      expectOk(await as(promoted).list());

      expect(expectOk(await as(admin).patch(user.user.id, { role: 'user' })).role).toBe('user');
      const demoted = await h.login(user.openid);
      expect(demoted.user.role).toBe('user');
      expectError(await as(demoted).list(), 40300);
    });

    it.each([
      ['status', { status: 'banned' }],
      ['status', { status: 1 }],
      ['role', { role: 'root' }],
      ['role', { role: ['admin'] }],
      ['nickname', { nickname: 'renamed' }],
      ['phone', { status: 'active', phone: '13800138000' }],
    ])('refuses a bad %s with 40000, changing nothing', async (field, body) => {
      const before = expectOk(await as(admin).get(plain.user.id));
      expectValidationError(await as(admin).patch(plain.user.id, body), field);
      expect(expectOk(await as(admin).get(plain.user.id))).toEqual(before);
    });
  });

  describe('delete', () => {
    it('erases the user: 404 afterwards, not listed, tokens dead, a later login is a new user', async () => {
      const victim = await h.login(undefined, { unionid: 'u_admin_delete_union_00000001' });
      const device2 = await h.login(victim.openid);
      expectOk(
        await h
          .http()
          .post('/api/v1/users/me/phone')
          .set('Authorization', victim.bearer)
          .send({ code: h.fake.newPhoneCode({ purePhoneNumber: '13800138099' }) }),
      );
      expect(await listedIds()).toContain(victim.user.id);

      const res = await as(admin).remove(victim.user.id);
      expect(expectOk(res)).toBeNull();

      expectError(await as(admin).get(victim.user.id), 40400);
      expectError(await as(admin).patch(victim.user.id, { status: 'active' }), 40400);
      expectError(await as(admin).remove(victim.user.id), 40400);
      expect(await listedIds()).not.toContain(victim.user.id);

      for (const login of [victim, device2]) {
        expectError(await me(login), 40100);
        expectError(
          await h.http().post('/api/v1/auth/refresh').send({ refreshToken: login.tokens.refreshToken }),
          40102,
        );
      }

      const reborn = await h.login(victim.openid, { unionid: 'u_admin_delete_union_00000001' });
      expect(reborn.isNewUser).toBe(true);
      expect(reborn.user.id).not.toBe(victim.user.id);
      expect(reborn.user.phone).toBeNull();
      expectOk(await me(reborn));
      // The old tokens stay dead even though the same WeChat user is back.
      expectError(await me(victim), 40100);
    });

    it('erases the stored personal data too, and never stores the session key in clear (grey-box)', async () => {
      const unionid = 'u_admin_erase_union_000000001';
      const victim = await h.login(undefined, { unionid });
      const nickname = `erase-me-${Date.now()}`;
      const avatarUrl = `https://example.com/erase-${Date.now()}.png`;
      expectOk(
        await h
          .http()
          .patch('/api/v1/users/me')
          .set('Authorization', victim.bearer)
          .send({ nickname, avatarUrl }),
      );
      expectOk(
        await h
          .http()
          .post('/api/v1/users/me/phone')
          .set('Authorization', victim.bearer)
          .send({ code: h.fake.newPhoneCode({ purePhoneNumber: '13912345678' }) }),
      );
      const before = await h.dumpDatabase();
      expect(before).toContain(victim.user.id); // the dump sees the user's rows
      expect(before).not.toContain(victim.sessionKey);

      expectOk(await as(admin).remove(victim.user.id));

      const after = await h.dumpDatabase();
      for (const personal of [victim.openid, unionid, nickname, avatarUrl, '13912345678']) {
        expect([personal, after.includes(personal)]).toEqual([personal, false]);
      }
    });
  });
});
