import type { Response } from 'supertest';
import {
  expectError,
  expectNoSecrets,
  expectOk,
  expectUserShape,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';

const ME = '/api/v1/users/me';

describe('GET and PATCH /api/v1/users/me', () => {
  let h: Harness;
  let login: LoginResult;

  const get = async (who: LoginResult = login): Promise<Response> =>
    h.http().get(ME).set('Authorization', who.bearer);
  const patch = async (body: unknown, who: LoginResult = login): Promise<Response> =>
    h
      .http()
      .patch(ME)
      .set('Authorization', who.bearer)
      .send(body as object);

  beforeAll(async () => {
    h = await startHarness();
    login = await h.login(undefined, { unionid: 'u_users_me_union_0000000001' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('returns the logged-in user, without any WeChat identity', async () => {
    const res = await get();
    const user = expectOk(res);
    expectUserShape(user);
    expect(user).toEqual(login.user);
    expect(user).toMatchObject({ role: 'user', status: 'active', phone: null });
    expectNoSecrets(res, [login.openid, login.sessionKey, login.unionid]);
  });

  it('needs a bearer token', async () => {
    expectError(await h.http().get(ME), 40100);
    expectError(await h.http().patch(ME).send({ nickname: 'x' }), 40100);
  });

  it('updates nickname, avatarUrl and gender, and keeps them', async () => {
    const changes = { nickname: '小程序用户', avatarUrl: 'https://example.com/a.png', gender: 2 };
    const res = await patch(changes);
    const user = expectOk(res);
    expectUserShape(user);
    expect(user).toMatchObject({ ...changes, id: login.user.id, role: 'user', status: 'active' });
    expect(Date.parse(user.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.createdAt));
    expect(expectOk(await get())).toMatchObject(changes);
    expectNoSecrets(res, [login.openid, login.sessionKey, login.unionid]);
  });

  it('changes only the fields sent', async () => {
    expectOk(await patch({ nickname: 'first', gender: 1 }));
    const user = expectOk(await patch({ gender: 0 }));
    expect(user).toMatchObject({ nickname: 'first', gender: 0 });
  });

  it('accepts the limits: 1 and 64 characters, an http URL of 1,024 characters', async () => {
    expect(expectOk(await patch({ nickname: 'a' })).nickname).toBe('a');
    const cjk64 = '微信用户'.repeat(16);
    expect(expectOk(await patch({ nickname: cjk64 })).nickname).toBe(cjk64);
    // Emoji are one character each (WeChat nicknames are full of them) and survive storage intact.
    const emoji64 = '😀'.repeat(63) + '👍🏻'.slice(0, 2);
    expect([...emoji64]).toHaveLength(64);
    expect(expectOk(await patch({ nickname: emoji64 })).nickname).toBe(emoji64);
    expect(expectOk(await get()).nickname).toBe(emoji64);
    const url = 'http://example.com/' + 'a'.repeat(1024 - 'http://example.com/'.length);
    expect(url).toHaveLength(1024);
    expect(expectOk(await patch({ avatarUrl: url })).avatarUrl).toBe(url);
  });

  it.each([
    ['nickname', 'empty', ''],
    ['nickname', '65 characters', 'n'.repeat(65)],
    ['nickname', '65 CJK characters', '微'.repeat(65)],
    ['nickname', '65 emoji', '😀'.repeat(65)],
    ['nickname', 'a number', 42],
    ['nickname', 'an array', ['a']],
    ['avatarUrl', 'ftp://', 'ftp://example.com/a.png'],
    ['avatarUrl', 'javascript:', 'javascript:alert(1)'],
    ['avatarUrl', 'not a URL', 'not a url'],
    [
      'avatarUrl',
      '1,025 characters',
      'https://example.com/' + 'a'.repeat(1025 - 'https://example.com/'.length),
    ],
    ['avatarUrl', 'a number', 12],
    ['gender', '3', 3],
    ['gender', '-1', -1],
    ['gender', '1.5', 1.5],
    ['gender', 'the string "1"', '1'],
    ['gender', 'true', true],
  ])('refuses %s = %s with 40000 naming the field, changing nothing', async (field, _label, value) => {
    const before = expectOk(await get());
    expectValidationError(await patch({ [field]: value }), field);
    expect(expectOk(await get())).toEqual(before);
  });

  it.each([
    ['role', 'admin'],
    ['status', 'active'],
    ['id', '1'],
    ['phone', '13800138000'],
    ['openid', 'o_someone_else'],
    ['createdAt', '2020-01-01T00:00:00Z'],
  ])('refuses %s (not a profile field) with 40000, changing nothing', async (field, value) => {
    const before = expectOk(await get());
    expectValidationError(await patch({ nickname: 'sneaky', [field]: value }), field);
    const after = expectOk(await get());
    expect(after).toEqual(before);
    expect(after.role).toBe('user');
  });

  it('keeps users apart', async () => {
    const other = await h.login();
    expectOk(await patch({ nickname: 'other user' }, other));
    expect(expectOk(await get()).nickname).not.toBe('other user');
    expect(expectOk(await get(other)).id).not.toBe(login.user.id);
  });
});
