import { randomBytes, randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/load-config.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { ENTITIES } from '../../src/entities.js';
import { UserEntity } from '../../src/users/user.entity.js';
import { TypeormUserRepository } from '../../src/users/user.repository.js';

/**
 * What the linking rules rely on from the user repository, on the real databases: an identity is
 * added only into an empty column of a live user and never taken from another user, and inserts
 * are refused on any of the three unique identities.
 */
const MARIADB_ROOT = 'mysql://root@127.0.0.1:3306';

async function openDatabase(
  kind: 'mariadb' | 'sqlite',
): Promise<{ ds: DataSource; drop: () => Promise<void> }> {
  let url = 'sqlite::memory:';
  let drop = async () => undefined;
  if (kind === 'mariadb') {
    const name = `int_${randomBytes(6).toString('hex')}`;
    const admin = await mysql.createConnection(MARIADB_ROOT);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    url = `${MARIADB_ROOT}/${name}`;
    drop = async () => {
      const conn = await mysql.createConnection(MARIADB_ROOT);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    };
  }
  const options = dataSourceOptions(loadConfig({ DATABASE_URL: url, NODE_ENV: 'test' }).database, {
    entities: ENTITIES,
  });
  const ds = await new DataSource({ ...options, migrationsRun: true }).initialize();
  return { ds, drop };
}

const tag = () => randomBytes(6).toString('hex');

function user(overrides: Partial<UserEntity> = {}): UserEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    openid: null,
    oaOpenid: null,
    unionid: null,
    nickname: null,
    avatarUrl: null,
    gender: 0,
    phoneEncrypted: null,
    phoneMasked: null,
    role: 'user',
    status: 'active',
    createdAt: now,
    updatedAt: now,
    erasedAt: null,
    ...overrides,
  };
}

describe.each(['mariadb', 'sqlite'] as const)('user identities on %s', (kind) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let users: TypeormUserRepository;

  beforeAll(async () => {
    ({ ds, drop } = await openDatabase(kind));
    users = new TypeormUserRepository(ds.getRepository(UserEntity));
  });

  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('finds by each identity; users without identities do not collide', async () => {
    const a = user({ openid: `m_${tag()}`, oaOpenid: `oa_${tag()}`, unionid: `u_${tag()}` });
    expect(await users.insertIfNew(a)).toBe(true);
    expect(await users.insertIfNew(user())).toBe(true);
    expect(await users.insertIfNew(user())).toBe(true);
    expect((await users.findByOpenid(a.openid!))?.id).toBe(a.id);
    expect((await users.findByOaOpenid(a.oaOpenid!))?.id).toBe(a.id);
    expect((await users.findByUnionid(a.unionid!))?.id).toBe(a.id);
    expect(await users.findByOaOpenid(`oa_${tag()}`)).toBeNull();
  });

  it('refuses an insert holding an OA openid or unionid another user holds', async () => {
    const a = user({ oaOpenid: `oa_${tag()}`, unionid: `u_${tag()}` });
    await users.insertIfNew(a);
    expect(await users.insertIfNew(user({ oaOpenid: a.oaOpenid }))).toBe(false);
    expect(await users.insertIfNew(user({ unionid: a.unionid }))).toBe(false);
  });

  it('concurrent first inserts of one person: exactly one wins', async () => {
    // One person (one unionid) signing in at once from the mini-program and the official account.
    const unionid = `u_${tag()}`;
    const candidates = [
      user({ oaOpenid: `oa_${tag()}`, unionid }),
      user({ openid: `m_${tag()}`, unionid }),
      user({ oaOpenid: `oa_${tag()}`, unionid }),
    ];
    const results = await Promise.all(candidates.map((candidate) => users.insertIfNew(candidate)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await users.findByUnionid(unionid))?.id).toBe(candidates[results.indexOf(true)].id);
  });

  it('concurrent inserts sharing an identity pairwise: no identity ends up with two users', async () => {
    const oaOpenid = `oa_${tag()}`;
    const unionid = `u_${tag()}`;
    // a and b share the unionid, a and c the OA openid; b and c share nothing, so both may win.
    const [a, b, c] = [
      user({ oaOpenid, unionid }),
      user({ openid: `m_${tag()}`, unionid }),
      user({ oaOpenid }),
    ];
    const [wa, wb, wc] = await Promise.all([a, b, c].map((candidate) => users.insertIfNew(candidate)));
    expect(wa ? !wb && !wc : wb || wc).toBe(true);
    expect((await users.findByUnionid(unionid))?.id).toBe(wa ? a.id : wb ? b.id : undefined);
    expect((await users.findByOaOpenid(oaOpenid))?.id).toBe(wa ? a.id : wc ? c.id : undefined);
  });

  it('adds an identity only into an empty column of a live user, never one another user holds', async () => {
    const a = user({ unionid: `u_${tag()}` });
    const b = user({ oaOpenid: `oa_${tag()}` });
    await users.insertIfNew(a);
    await users.insertIfNew(b);
    // Held by b: refused, told rather than thrown at.
    expect(await users.addIdentity(a.id, 'oaOpenid', b.oaOpenid!)).toBe(false);
    const mine = `oa_${tag()}`;
    expect(await users.addIdentity(a.id, 'oaOpenid', mine)).toBe(true);
    // Never replaced once set.
    expect(await users.addIdentity(a.id, 'oaOpenid', `oa_${tag()}`)).toBe(false);
    expect((await users.findById(a.id))?.oaOpenid).toBe(mine);
    expect(await users.addIdentity(b.id, 'unionid', a.unionid!)).toBe(false);
    expect((await users.findById(b.id))?.unionid).toBeNull();

    const gone = user();
    await users.insertIfNew(gone);
    await users.updateUnlessErased(gone.id, { status: 'erased' });
    expect(await users.addIdentity(gone.id, 'openid', `m_${tag()}`)).toBe(false);
    expect(await users.addIdentity(randomUUID(), 'openid', `m_${tag()}`)).toBe(false);
  });

  it('of concurrent additions of one identity to two users, one lands', async () => {
    const a = user();
    const b = user();
    await users.insertIfNew(a);
    await users.insertIfNew(b);
    const oaOpenid = `oa_${tag()}`;
    const results = await Promise.all([
      users.addIdentity(a.id, 'oaOpenid', oaOpenid),
      users.addIdentity(b.id, 'oaOpenid', oaOpenid),
    ]);
    expect(results.sort()).toEqual([false, true]);
  });
});
