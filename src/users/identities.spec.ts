import { META, unitWorld } from '../../test/support/unit-world.js';
import type { UserEntity } from './user.entity.js';

type World = ReturnType<typeof unitWorld>;

/** The MP login's WeChat answer for a code: `m_<code>`, and a unionid when the test gives one. */
function mpAnswers(w: World, unionids: Record<string, string | undefined> = {}): void {
  w.wechat.sessionFor = (code) => ({
    openid: `m_${code}`,
    sessionKey: Buffer.from(code.padEnd(16, '.').slice(0, 16)).toString('base64'),
    unionid: unionids[code],
  });
}

const rows = (w: World): UserEntity[] => [...w.repos.users.rows.values()];
const row = (w: World, id: string): UserEntity => w.repos.users.rows.get(id)!;
const oauth = (w: World, oaOpenid: string, unionid?: string, profile = {}) =>
  w.users.signInWithOaOpenid(oaOpenid, unionid, profile, META);

/** Counts the inserts the unique indexes refused: proof that a test's sign-ins really raced. */
function lostInserts(w: World): () => number {
  let lost = 0;
  const insert = w.repos.users.insertIfNew.bind(w.repos.users);
  w.repos.users.insertIfNew = async (user) => {
    const won = await insert(user);
    if (!won) lost++;
    return won;
  };
  return () => lost;
}

/** The first `n` inserts wait for each other, so sign-ins that start apart still meet at the write. */
function meetAtInsert(w: World, n: number): void {
  const insert = w.repos.users.insertIfNew.bind(w.repos.users);
  let waiting: Array<() => void> = [];
  w.repos.users.insertIfNew = async (user) => {
    if (n > 0) {
      n--;
      const met = new Promise<void>((resolve) => waiting.push(resolve));
      if (n === 0) {
        waiting.forEach((resolve) => resolve());
        waiting = [];
      }
      await met;
    }
    return insert(user);
  };
}

/** Follower records as H2's module would register them: unionids learned from /cgi-bin/user/info. */
function followers(w: World, known: Record<string, string>): { asked: string[]; linked: string[][] } {
  const asked: string[] = [];
  const linked: string[][] = [];
  w.oaUnionids.register({
    unionidOf: async (oaOpenid) => {
      asked.push(oaOpenid);
      return known[oaOpenid] ?? null;
    },
    linkUser: async (oaOpenid, userId) => {
      linked.push([oaOpenid, userId]);
    },
  });
  return { asked, linked };
}

describe('identities: web sign-in (OA openid)', () => {
  it('the follower record of the OA openid is given to the signed-in user, new or known', async () => {
    const w = unitWorld();
    const { linked } = followers(w, { oa_1: 'u_1' });
    const first = await oauth(w, 'oa_1');
    const again = await oauth(w, 'oa_1');
    expect(linked).toEqual([
      ['oa_1', first.user.id],
      ['oa_1', again.user.id],
    ]);
    expect(again.user.id).toBe(first.user.id);
  });

  it('the user holding the OA openid signs in again; no lookup is needed', async () => {
    const w = unitWorld();
    const { asked } = followers(w, { oa_1: 'u_1' });
    const first = await oauth(w, 'oa_1');
    expect(first).toMatchObject({ created: true, linked: false });
    expect(asked).toEqual(['oa_1']);
    const again = await oauth(w, 'oa_1');
    expect(again).toMatchObject({ created: false, linked: false });
    expect(again.user.id).toBe(first.user.id);
    expect(asked).toEqual(['oa_1']);
    expect(rows(w)).toHaveLength(1);
  });

  it('a new person becomes a new user holding the OA openid and the unionid; role user', async () => {
    const w = unitWorld({ adminOpenids: ['oa_admin'] });
    const { user, created } = await oauth(w, 'oa_admin', 'u_new');
    expect(created).toBe(true);
    expect(row(w, user.id)).toMatchObject({ oaOpenid: 'oa_admin', unionid: 'u_new', openid: null });
    // ADMIN_OPENIDS names mini-program openids only.
    expect(row(w, user.id).role).toBe('user');
  });

  it('the unionid WeChat gave with the code: its holder (an MP user) gains the OA openid', async () => {
    const w = unitWorld();
    mpAnswers(w, { ann: 'u_ann' });
    const mp = await w.auth.login('ann', META);
    const result = await oauth(w, 'oa_ann', 'u_ann');
    expect(result).toMatchObject({ created: false, linked: true });
    expect(result.user.id).toBe(mp.user.id);
    expect(row(w, mp.user.id)).toMatchObject({ openid: 'm_ann', oaOpenid: 'oa_ann', unionid: 'u_ann' });
    expect(w.repos.audit.rows.filter((r) => r.event === 'identity_linked')).toEqual([
      expect.objectContaining({ userId: mp.user.id, detail: 'official-account openid, by unionid' }),
    ]);
    expect(rows(w)).toHaveLength(1);
  });

  it('no unionid with the code: the one on record for the OA openid (it followed) links it', async () => {
    const w = unitWorld();
    mpAnswers(w, { bob: 'u_bob' });
    const { asked } = followers(w, { oa_bob: 'u_bob' });
    const mp = await w.auth.login('bob', META);
    const result = await oauth(w, 'oa_bob');
    expect(result).toMatchObject({ created: false, linked: true });
    expect(result.user.id).toBe(mp.user.id);
    expect(asked).toEqual(['oa_bob']);
  });

  it('the unionid given with the code is preferred; the record is not asked', async () => {
    const w = unitWorld();
    const { asked } = followers(w, { oa_c: 'u_other' });
    await oauth(w, 'oa_c', 'u_c');
    expect(asked).toEqual([]);
    expect(rows(w)[0].unionid).toBe('u_c');
  });

  it('no unionid known at all: a new user holding only the OA openid', async () => {
    const w = unitWorld();
    mpAnswers(w, { dan: 'u_dan' });
    followers(w, {});
    await w.auth.login('dan', META);
    const result = await oauth(w, 'oa_dan');
    expect(result).toMatchObject({ created: true, linked: false });
    expect(row(w, result.user.id)).toMatchObject({ oaOpenid: 'oa_dan', unionid: null, openid: null });
    expect(rows(w)).toHaveLength(2);
  });

  it('the unionid holder already has another OA openid: nothing moves, a new user without the unionid', async () => {
    const w = unitWorld();
    const first = await oauth(w, 'oa_e1', 'u_e');
    const second = await oauth(w, 'oa_e2', 'u_e');
    expect(second).toMatchObject({ created: true, linked: false });
    expect(row(w, first.user.id)).toMatchObject({ oaOpenid: 'oa_e1', unionid: 'u_e' });
    expect(row(w, second.user.id)).toMatchObject({ oaOpenid: 'oa_e2', unionid: null });
  });

  it('a user holding the OA openid learns a unionid later, unless another user holds it', async () => {
    const w = unitWorld();
    const a = await oauth(w, 'oa_f');
    await oauth(w, 'oa_f', 'u_f');
    expect(row(w, a.user.id).unionid).toBe('u_f');
    // Never replaced once set.
    await oauth(w, 'oa_f', 'u_f2');
    expect(row(w, a.user.id).unionid).toBe('u_f');

    const b = await oauth(w, 'oa_g');
    await oauth(w, 'oa_g', 'u_f');
    expect(row(w, b.user.id).unionid).toBeNull();
  });

  it('nickname and avatar fill only empty fields; odd values are not kept', async () => {
    const w = unitWorld();
    const long = '长'.repeat(70);
    const made = await oauth(w, 'oa_h', undefined, {
      nickname: long,
      avatarUrl: 'javascript:alert(1)',
    });
    expect(row(w, made.user.id).nickname).toBe('长'.repeat(64));
    expect(row(w, made.user.id).avatarUrl).toBeNull();
    await w.users.updateProfile(made.user.id, { nickname: 'chosen' });
    const again = await oauth(w, 'oa_h', undefined, {
      nickname: 'from wechat',
      avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/x/132',
    });
    expect(again.user).toMatchObject({
      nickname: 'chosen',
      avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/x/132',
    });
    expect(row(w, made.user.id)).toMatchObject({
      nickname: 'chosen',
      avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/x/132',
    });
    // The cached user (auth state, /users/me) sees the change at once.
    expect((await w.users.getVisible(made.user.id)).avatarUrl).toBe('https://thirdwx.qlogo.cn/mmopen/x/132');
  });

  it('concurrent first sign-ins of one person make one user', async () => {
    const w = unitWorld();
    const lost = lostInserts(w);
    const results = await Promise.all([1, 2, 3, 4].map(() => oauth(w, 'oa_i', 'u_i')));
    expect(lost()).toBe(3);
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(rows(w)).toHaveLength(1);
  });

  it('concurrent first sign-ins, one in the MP and one on the web, same unionid: one user holding both', async () => {
    const w = unitWorld();
    mpAnswers(w, { jo: 'u_jo' });
    meetAtInsert(w, 2);
    const lost = lostInserts(w);
    const [mp, web] = await Promise.all([w.auth.login('jo', META), oauth(w, 'oa_jo', 'u_jo')]);
    expect(web.user.id).toBe(mp.user.id);
    expect([mp.isNewUser, web.created].filter(Boolean)).toHaveLength(1);
    expect(rows(w)).toHaveLength(1);
    expect(rows(w)[0]).toMatchObject({ openid: 'm_jo', oaOpenid: 'oa_jo', unionid: 'u_jo' });
    expect(lost()).toBe(1);
  });

  it('concurrent first web sign-ins linking to one MP user: linked once, one user', async () => {
    const w = unitWorld();
    mpAnswers(w, { kim: 'u_kim' });
    const mp = await w.auth.login('kim', META);
    const results = await Promise.all([1, 2, 3].map(() => oauth(w, 'oa_kim', 'u_kim')));
    expect(results.map((r) => r.user.id)).toEqual([mp.user.id, mp.user.id, mp.user.id]);
    expect(results.filter((r) => r.linked)).toHaveLength(1);
    expect(w.repos.audit.events(mp.user.id).filter((e) => e === 'identity_linked')).toHaveLength(1);
    expect(rows(w)).toHaveLength(1);
  });

  it('an erased user: a later web sign-in of that person makes a new user', async () => {
    const w = unitWorld();
    const admin = await w.auth.login('root', META);
    const made = await oauth(w, 'oa_k', 'u_k');
    await w.admin.erase(admin.user.id, made.user.id, META);
    expect(row(w, made.user.id)).toMatchObject({ status: 'erased', oaOpenid: null, unionid: null });
    const again = await oauth(w, 'oa_k', 'u_k');
    expect(again.created).toBe(true);
    expect(again.user.id).not.toBe(made.user.id);
  });

  it('a disabled user still holds (and gains) its identities; refusing it is the sign-in’s business', async () => {
    const w = unitWorld();
    mpAnswers(w, { lu: 'u_lu' });
    const mp = await w.auth.login('lu', META);
    row(w, mp.user.id).status = 'disabled';
    const result = await oauth(w, 'oa_lu', 'u_lu');
    expect(result.user).toMatchObject({ id: mp.user.id, status: 'disabled' });
    expect(rows(w)).toHaveLength(1);
  });
});

describe('identities: MP login', () => {
  it('no user holds the MP openid and WeChat gave a unionid: its holder gains the MP openid', async () => {
    const w = unitWorld();
    mpAnswers(w, { max: 'u_max' });
    const web = await oauth(w, 'oa_max', 'u_max');
    const mp = await w.auth.login('max', META);
    expect(mp.isNewUser).toBe(false);
    expect(mp.user.id).toBe(web.user.id);
    expect(row(w, web.user.id)).toMatchObject({ openid: 'm_max', oaOpenid: 'oa_max' });
    expect(w.repos.audit.events(web.user.id)).toEqual(['identity_linked', 'login']);
    expect(w.repos.audit.rows.find((r) => r.event === 'identity_linked')?.detail).toBe(
      'mini-program openid, by unionid',
    );
  });

  it('the unionid holder already has another MP openid: a new user without the unionid', async () => {
    const w = unitWorld();
    mpAnswers(w, { n1: 'u_n', n2: 'u_n' });
    const first = await w.auth.login('n1', META);
    const second = await w.auth.login('n2', META);
    expect(second.isNewUser).toBe(true);
    expect(row(w, first.user.id).unionid).toBe('u_n');
    expect(row(w, second.user.id)).toMatchObject({ openid: 'm_n2', unionid: null });
  });

  it('without a unionid, v1: a new user; with one no user holds, a new user holding both', async () => {
    const w = unitWorld();
    mpAnswers(w, { p2: 'u_p2' });
    await oauth(w, 'oa_p', 'u_p');
    const plain = await w.auth.login('p1', META);
    expect(plain.isNewUser).toBe(true);
    expect(row(w, plain.user.id).unionid).toBeNull();
    const withUnionid = await w.auth.login('p2', META);
    expect(withUnionid.isNewUser).toBe(true);
    expect(row(w, withUnionid.user.id)).toMatchObject({ openid: 'm_p2', unionid: 'u_p2' });
  });

  it('a returning MP user learns a unionid later, only if no other user holds it', async () => {
    const w = unitWorld();
    const unionids: Record<string, string | undefined> = {};
    mpAnswers(w, unionids);
    const q = await w.auth.login('q', META);
    const taken = await oauth(w, 'oa_other', 'u_taken');
    unionids.q = 'u_taken';
    await w.auth.login('q', META);
    expect(row(w, q.user.id).unionid).toBeNull();
    unionids.q = 'u_q';
    await w.auth.login('q', META);
    expect(row(w, q.user.id).unionid).toBe('u_q');
    expect(row(w, taken.user.id).unionid).toBe('u_taken');
  });

  it('an MP openid in ADMIN_OPENIDS promotes the web user it links to', async () => {
    const w = unitWorld({ adminOpenids: ['m_boss'] });
    mpAnswers(w, { boss: 'u_boss' });
    const web = await oauth(w, 'oa_boss', 'u_boss');
    expect(row(w, web.user.id).role).toBe('user');
    const mp = await w.auth.login('boss', META);
    expect(mp.user).toMatchObject({ id: web.user.id, role: 'admin' });
  });

  it('concurrent first MP logins of one person with a unionid make one user', async () => {
    const w = unitWorld();
    mpAnswers(w, { r: 'u_r' });
    const lost = lostInserts(w);
    const results = await Promise.all([1, 2, 3].map(() => w.auth.login('r', META)));
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(results.filter((r) => r.isNewUser)).toHaveLength(1);
    expect(rows(w)).toHaveLength(1);
    expect(lost()).toBe(2);
  });
});

describe('identities: followers (subscribe)', () => {
  it('the user holding the OA openid, learning the unionid', async () => {
    const w = unitWorld();
    const web = await oauth(w, 'oa_s');
    expect(await w.users.linkFollower('oa_s', 'u_s', META)).toBe(web.user.id);
    expect(row(w, web.user.id).unionid).toBe('u_s');
  });

  it('else the user holding the unionid, who gains the OA openid; a later web sign-in finds it', async () => {
    const w = unitWorld();
    mpAnswers(w, { t: 'u_t' });
    const mp = await w.auth.login('t', META);
    expect(await w.users.linkFollower('oa_t', 'u_t', META)).toBe(mp.user.id);
    expect(row(w, mp.user.id).oaOpenid).toBe('oa_t');
    expect(w.repos.audit.events(mp.user.id)).toContain('identity_linked');
    expect((await oauth(w, 'oa_t')).user.id).toBe(mp.user.id);
  });

  it('else nobody, and no user is made; a holder with another OA openid keeps it', async () => {
    const w = unitWorld();
    expect(await w.users.linkFollower('oa_u', 'u_u', META)).toBeNull();
    expect(await w.users.linkFollower('oa_u', undefined, META)).toBeNull();
    expect(rows(w)).toHaveLength(0);
    await oauth(w, 'oa_v1', 'u_v');
    expect(await w.users.linkFollower('oa_v2', 'u_v', META)).toBeNull();
    expect(rows(w)[0].oaOpenid).toBe('oa_v1');
  });
});
