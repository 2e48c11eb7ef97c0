import { ErrorCode } from '../common/errors/error-code.js';
import { sandboxOpenid } from '../wechat/sandbox/sandbox-wechat-client.js';
import { META, outcome, unitWorld } from '../../test/support/unit-world.js';

describe('AuthService', () => {
  it('a first login makes a user and a session; the next one finds the same user', async () => {
    const w = unitWorld();
    const first = await w.auth.login('alice', META);
    expect(first.isNewUser).toBe(true);
    const again = await w.auth.login('alice', META);
    expect(again.isNewUser).toBe(false);
    expect(again.user.id).toBe(first.user.id);
    expect(w.repos.sessions.ofUser(first.user.id)).toHaveLength(2);
    expect(w.repos.audit.events(first.user.id)).toEqual(['user_created', 'login', 'login']);
  });

  it('two concurrent first logins of one WeChat user make one user', async () => {
    const w = unitWorld();
    const [a, b] = await Promise.all([w.auth.login('bob', META), w.auth.login('bob', META)]);
    expect(a.user.id).toBe(b.user.id);
    expect([a.isNewUser, b.isNewUser].filter(Boolean)).toHaveLength(1);
    expect(w.repos.users.rows.size).toBe(1);
  });

  it('ADMIN_OPENIDS gives the admin role at login, and says so in the audit log', async () => {
    const w = unitWorld({ adminOpenids: ['o_root'] });
    expect((await w.auth.login('root', META)).user.role).toBe('admin');
    expect((await w.auth.login('plain', META)).user.role).toBe('user');
    const root = [...w.repos.users.rows.values()].find((u) => u.openid === 'o_root')!;
    expect(w.repos.audit.events(root.id)).toContain('login');
  });

  it('in the sandbox, ADMIN_OPENIDS may name a user by its wx.login code (sandbox:<code>)', async () => {
    const sandbox = unitWorld({ adminOpenids: ['sandbox:alice'], sandbox: true });
    sandbox.wechat.sessionFor = (code) => ({
      openid: sandboxOpenid(code),
      sessionKey: 'AAAAAAAAAAAAAAAAAAAAAA==',
    });
    expect((await sandbox.auth.login('alice', META)).user.role).toBe('admin');
    expect((await sandbox.auth.login('bob', META)).user.role).toBe('user');
    // Live mode reads the entry literally.
    const live = unitWorld({ adminOpenids: ['sandbox:alice'] });
    live.wechat.sessionFor = sandbox.wechat.sessionFor;
    expect((await live.auth.login('alice', META)).user.role).toBe('user');
  });

  it('promotes an existing user listed later in ADMIN_OPENIDS', async () => {
    const before = unitWorld();
    const user = await before.auth.login('carol', META);
    const w = unitWorld({ adminOpenids: ['o_carol'] });
    w.repos.users.rows.set(user.user.id, { ...before.repos.users.rows.get(user.user.id)! });
    expect((await w.auth.login('carol', META)).user.role).toBe('admin');
    expect(w.repos.audit.rows.find((r) => r.event === 'role_changed')?.detail).toBe(
      'user->admin (ADMIN_OPENIDS)',
    );
  });

  it('a disabled user is refused at login with 40301, and no session is made', async () => {
    const w = unitWorld();
    const { user } = await w.auth.login('dave', META);
    w.repos.users.rows.get(user.id)!.status = 'disabled';
    w.bus.publish('users', [user.id]);
    expect(await outcome(w.auth.login('dave', META))).toBe(ErrorCode.USER_DISABLED);
    expect(w.repos.sessions.ofUser(user.id)).toHaveLength(1);
    expect(w.repos.audit.events(user.id)).toContain('login_refused');
  });

  it('a disable that commits while a login is under way: the login is refused, its session revoked', async () => {
    const w = unitWorld();
    const { user } = await w.auth.login('erin', META);
    const insert = w.repos.sessions.insert.bind(w.repos.sessions);
    w.repos.sessions.insert = async (session) => {
      await insert(session);
      // The admin's disable lands between the login's read of the user and its final check.
      w.repos.users.rows.get(user.id)!.status = 'disabled';
    };
    expect(await outcome(w.auth.login('erin', META))).toBe(ErrorCode.USER_DISABLED);
    const newest = w.repos.sessions.ofUser(user.id).at(-1)!;
    expect(newest.revokeReason).toBe('disabled');
  });

  it('an erasure that commits while a login is under way: the WeChat user signs in as a new user', async () => {
    const w = unitWorld();
    const { user } = await w.auth.login('fay', META);
    const insert = w.repos.sessions.insert.bind(w.repos.sessions);
    let once = true;
    w.repos.sessions.insert = async (session) => {
      await insert(session);
      if (once) {
        once = false;
        Object.assign(w.repos.users.rows.get(user.id)!, { status: 'erased', openid: null });
      }
    };
    const result = await w.auth.login('fay', META);
    expect(result.isNewUser).toBe(true);
    expect(result.user.id).not.toBe(user.id);
    // The session the interrupted login stored for the erased account is ended, its key gone.
    expect(w.repos.sessions.ofUser(user.id).at(-1)?.revokeReason).toBe('erased');
    expect(w.repos.keys.rows.has(user.id)).toBe(false);
  });

  it('refresh: a disabled user gets 40301, an erased one 40102, and the login is not rotated', async () => {
    const w = unitWorld();
    const login = await w.auth.login('gus', META);
    const row = w.repos.users.rows.get(login.user.id)!;
    row.status = 'disabled';
    w.bus.publish('users', [login.user.id]);
    expect(await outcome(w.auth.refresh(login.refreshToken, META))).toBe(ErrorCode.USER_DISABLED);
    row.status = 'erased';
    w.bus.publish('users', [login.user.id]);
    expect(await outcome(w.auth.refresh(login.refreshToken, META))).toBe(ErrorCode.REFRESH_TOKEN_INVALID);
    expect(w.repos.sessions.ofUser(login.user.id)[0].generation).toBe(0);
  });

  it('refresh reuse is audited as such; a made-up token is not', async () => {
    const w = unitWorld();
    const login = await w.auth.login('hal', META);
    await w.auth.refresh(login.refreshToken, META);
    expect(await outcome(w.auth.refresh(login.refreshToken, META))).toBe(ErrorCode.REFRESH_TOKEN_REUSED);
    const other = await w.auth.login('ivy', META);
    const sid = other.refreshToken.split('.')[0];
    expect(await outcome(w.auth.refresh(`${sid}.0.${'A'.repeat(43)}`, META))).toBe(
      ErrorCode.REFRESH_TOKEN_INVALID,
    );
    expect(w.repos.audit.events(login.user.id)).toContain('refresh_reuse');
    expect(w.repos.audit.events(other.user.id)).not.toContain('refresh_reuse');
  });

  it('logout ends this login only; logout of all devices ends every one', async () => {
    const w = unitWorld();
    const a = await w.auth.login('jo', META);
    const b = await w.auth.login('jo', META);
    const sid = (t: string) => t.split('.')[0];
    await w.auth.logout(a.user.id, sid(a.refreshToken), false, META);
    expect(await w.sessions.isLive(sid(a.refreshToken), a.user.id)).toBe(false);
    expect(await w.sessions.isLive(sid(b.refreshToken), a.user.id)).toBe(true);
    await w.auth.logout(a.user.id, sid(b.refreshToken), true, META);
    expect(await w.sessions.isLive(sid(b.refreshToken), a.user.id)).toBe(false);
  });
});
