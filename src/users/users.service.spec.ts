import { ErrorCode } from '../common/errors/error-code.js';
import { META, outcome, unitWorld } from '../../test/support/unit-world.js';

describe('UsersService', () => {
  async function setup() {
    const w = unitWorld({ adminOpenids: ['o_boss'] });
    const boss = (await w.auth.login('boss', META)).user;
    const user = (await w.auth.login('kim', META)).user;
    return { w, boss, user };
  }

  it('null clears nickname and avatar; the profile is returned as stored', async () => {
    const { w, user } = await setup();
    await w.users.updateProfile(user.id, {
      nickname: 'Kim',
      avatarUrl: 'https://example.com/k.png',
      gender: 2,
    });
    const cleared = await w.users.updateProfile(user.id, { nickname: null, avatarUrl: null });
    expect([cleared.nickname, cleared.avatarUrl, cleared.gender]).toEqual([null, null, 2]);
    expect(w.repos.users.rows.get(user.id)?.nickname).toBeNull();
  });

  it('a phone is stored encrypted and shown masked', async () => {
    const { w, user } = await setup();
    const bound = await w.users.bindPhone(user.id, 'p-12345678', META);
    expect(bound.phoneMasked).toBe('138****5678');
    const row = w.repos.users.rows.get(user.id)!;
    expect(row.phoneEncrypted).not.toContain('13812345678');
    expect(w.cipher.decrypt(row.phoneEncrypted!)).toBe('13812345678');
  });

  it('a phone binding that WeChat answers after an erasure stores nothing and is 404', async () => {
    const { w, boss, user } = await setup();
    const held = w.wechat.hold();
    const binding = outcome(w.users.bindPhone(user.id, 'p-55556666', META));
    await held.entered;
    await w.admin.erase(boss.id, user.id, META);
    held.release();
    expect(await binding).toBe(ErrorCode.NOT_FOUND);
    expect(w.repos.users.rows.get(user.id)).toMatchObject({ phoneMasked: null, phoneEncrypted: null });
    expect(w.repos.audit.events(user.id)).not.toContain('phone_bound');
  });

  it('profile writes to an erased user are 404', async () => {
    const { w, boss, user } = await setup();
    await w.admin.erase(boss.id, user.id, META);
    expect(await outcome(w.users.updateProfile(user.id, { nickname: 'ghost' }))).toBe(ErrorCode.NOT_FOUND);
    expect(w.repos.users.rows.get(user.id)?.nickname).toBeNull();
  });

  it('the auth state follows every write at once (the cache is cleared)', async () => {
    const { w, boss, user } = await setup();
    expect(await w.users.getAuthState(user.id)).toEqual({ role: 'user', status: 'active' });
    await w.admin.update(boss.id, user.id, { status: 'disabled' }, META);
    expect(await w.users.getAuthState(user.id)).toEqual({ role: 'user', status: 'disabled' });
  });
});
