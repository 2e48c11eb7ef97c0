import { ErrorCode } from '../common/errors/error-code.js';
import { META, outcome, unitWorld } from '../../test/support/unit-world.js';
import type { AdminUpdateUserDto } from './dto/admin-update-user.dto.js';

describe('AdminUsersService', () => {
  async function setup() {
    const w = unitWorld({ adminOpenids: ['o_boss'] });
    const boss = (await w.auth.login('boss', META)).user;
    const login = await w.auth.login('target', META);
    return { w, boss, target: login.user, sid: login.refreshToken.split('.')[0] };
  }

  it.each<[AdminUpdateUserDto]>([[{ role: 'user' }], [{ status: 'disabled' }]])(
    'an admin may not apply %j to themselves (409, nothing changes)',
    async (changes) => {
      const { w, boss } = await setup();
      expect(await outcome(w.admin.update(boss.id, boss.id, changes, META))).toBe(ErrorCode.CONFLICT);
      expect(w.repos.users.rows.get(boss.id)).toMatchObject({ role: 'admin', status: 'active' });
    },
  );

  it('an admin may not erase themselves (409)', async () => {
    const { w, boss } = await setup();
    expect(await outcome(w.admin.erase(boss.id, boss.id, META))).toBe(ErrorCode.CONFLICT);
    expect(w.repos.users.rows.get(boss.id)?.status).toBe('active');
  });

  it('disable revokes every login in the same transaction; enabling again revives none', async () => {
    const { w, boss, target, sid } = await setup();
    await w.admin.update(boss.id, target.id, { status: 'disabled' }, META);
    expect(w.uow.commits).toBe(1);
    expect(await w.sessions.isLive(sid, target.id)).toBe(false);
    await w.admin.update(boss.id, target.id, { status: 'active' }, META);
    expect(await w.sessions.isLive(sid, target.id)).toBe(false);
    expect(w.repos.audit.rows.filter((r) => r.event === 'status_changed').map((r) => r.detail)).toEqual([
      'active->disabled',
      'disabled->active',
    ]);
  });

  it('a disable whose transaction fails leaves the user active and the logins on', async () => {
    const { w, boss, target, sid } = await setup();
    w.uow.failNext = new Error('connection lost');
    await expect(w.admin.update(boss.id, target.id, { status: 'disabled' }, META)).rejects.toThrow(
      'connection lost',
    );
    expect(w.repos.users.rows.get(target.id)?.status).toBe('active');
    expect(await w.sessions.isLive(sid, target.id)).toBe(true);
  });

  it('promotion and demotion of another user are audited with the actor', async () => {
    const { w, boss, target } = await setup();
    const promoted = await w.admin.update(boss.id, target.id, { role: 'admin' }, META);
    expect(promoted.role).toBe('admin');
    const entry = w.repos.audit.rows.find((r) => r.event === 'role_changed' && r.userId === target.id)!;
    expect([entry.actorId, entry.detail]).toEqual([boss.id, 'user->admin']);
  });

  it('a change to what is already so writes nothing', async () => {
    const { w, boss, target } = await setup();
    await w.admin.update(boss.id, target.id, { status: 'active', role: 'user' }, META);
    expect(w.uow.commits).toBe(0);
  });

  it('erasure blanks the user, their logins and audit details in one transaction', async () => {
    const { w, boss, target, sid } = await setup();
    await w.users.updateProfile(target.id, { nickname: 'Target' });
    await w.admin.erase(boss.id, target.id, META);
    expect(w.uow.commits).toBe(1);
    expect(w.repos.users.rows.get(target.id)).toMatchObject({
      status: 'erased',
      openid: null,
      nickname: null,
      phoneMasked: null,
    });
    expect(await w.sessions.isLive(sid, target.id)).toBe(false);
    for (const session of w.repos.sessions.ofUser(target.id))
      expect([session.ip, session.userAgent]).toEqual([null, null]);
    expect(w.repos.keys.rows.has(target.id)).toBe(false);
    const entries = w.repos.audit.rows.filter((r) => r.userId === target.id);
    expect(entries.map((r) => r.event)).toEqual(['user_created', 'login', 'user_erased']);
    for (const entry of entries) expect([entry.ip, entry.detail]).toEqual([null, null]);
  });

  it('an erased user is gone: get, update and erase again are 404', async () => {
    const { w, boss, target } = await setup();
    await w.admin.erase(boss.id, target.id, META);
    expect(await outcome(w.admin.get(target.id))).toBe(ErrorCode.NOT_FOUND);
    expect(await outcome(w.admin.update(boss.id, target.id, { status: 'disabled' }, META))).toBe(
      ErrorCode.NOT_FOUND,
    );
    expect(await outcome(w.admin.erase(boss.id, target.id, META))).toBe(ErrorCode.NOT_FOUND);
    expect((await w.admin.list({ page: 1, pageSize: 20 })).items.map((u) => u.id)).toEqual([boss.id]);
  });
});
