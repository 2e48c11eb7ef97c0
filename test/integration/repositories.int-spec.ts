import { randomBytes, randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../../src/audit/audit-event.entity.js';
import { TypeormAuditRepository } from '../../src/audit/audit.repository.js';
import { AppError } from '../../src/common/errors/app-error.js';
import { loadConfig } from '../../src/config/load-config.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { TypeormUnitOfWork } from '../../src/database/unit-of-work.js';
import { ENTITIES } from '../../src/entities.js';
import { SessionKeyEntity } from '../../src/session-keys/session-key.entity.js';
import { TypeormSessionKeyRepository } from '../../src/session-keys/session-key.repository.js';
import { LoginSessionEntity } from '../../src/sessions/login-session.entity.js';
import { TypeormSessionRepository } from '../../src/sessions/typeorm-session.repository.js';
import { UserEntity } from '../../src/users/user.entity.js';
import { TypeormUserRepository } from '../../src/users/user.repository.js';

/**
 * The repositories' own guarantees, which the in-memory stand-ins of the unit tests only imitate,
 * proven against the real databases: the rotation's compare-and-set under concurrency, the unique
 * openid, "never write an erased user", the locking read that waits for a disable, transactions
 * that commit whole or not at all.
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

function user(overrides: Partial<UserEntity> = {}): UserEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    openid: `o_${randomBytes(8).toString('hex')}`,
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

function session(userId: string, hash = randomBytes(32).toString('hex')): LoginSessionEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    userId,
    refreshTokenHash: hash,
    generation: 0,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: new Date(now.getTime() + 3_600_000),
    revokedAt: null,
    revokeReason: null,
    userAgent: 'int-test',
    ip: '198.51.100.9',
  };
}

describe.each(['mariadb', 'sqlite'] as const)('repositories on %s', (kind) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let users: TypeormUserRepository;
  let sessions: TypeormSessionRepository;
  let keys: TypeormSessionKeyRepository;
  let audit: TypeormAuditRepository;
  let uow: TypeormUnitOfWork;

  beforeAll(async () => {
    ({ ds, drop } = await openDatabase(kind));
    users = new TypeormUserRepository(ds.getRepository(UserEntity));
    sessions = new TypeormSessionRepository(ds.getRepository(LoginSessionEntity));
    keys = new TypeormSessionKeyRepository(ds.getRepository(SessionKeyEntity));
    audit = new TypeormAuditRepository(ds.getRepository(AuditEventEntity));
    uow = new TypeormUnitOfWork(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('of 8 concurrent rotations from one hash exactly one wins, batched or not', async () => {
    const owner = user();
    await users.insertIfNew(owner);
    const row = session(owner.id, 'a'.repeat(64));
    await sessions.insert(row);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sessions.rotate({ id: row.id, from: 'a'.repeat(64), to: String(i).repeat(64), at: new Date() }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await sessions.findById(row.id);
    expect(stored?.generation).toBe(1);
    expect(stored?.refreshTokenHash).toBe(String(results.indexOf(true)).repeat(64));
  });

  it('a revoked login rotates no more', async () => {
    const owner = user();
    await users.insertIfNew(owner);
    const row = session(owner.id, 'b'.repeat(64));
    await sessions.insert(row);
    await sessions.revoke(row.id, 'logout', new Date());
    expect(
      await sessions.rotate({ id: row.id, from: 'b'.repeat(64), to: 'c'.repeat(64), at: new Date() }),
    ).toBe(false);
  });

  it('revokeAllForUser ends the live logins and names every revoked one not expired', async () => {
    const owner = user();
    await users.insertIfNew(owner);
    const [a, b, old] = [session(owner.id), session(owner.id), session(owner.id)];
    old.expiresAt = new Date(Date.now() - 1000);
    for (const s of [a, b, old]) await sessions.insert(s);
    await sessions.revoke(a.id, 'logout', new Date());
    const result = await sessions.revokeAllForUser(owner.id, 'disabled', new Date());
    expect(result.revoked).toBe(2); // b and the expired one were still unrevoked
    expect(result.revokedIds.sort()).toEqual([a.id, b.id].sort());
    expect((await sessions.findById(b.id))?.revokeReason).toBe('disabled');
  });

  it('two first inserts of one openid: one wins, the other is told, not thrown at', async () => {
    const openid = `o_dup_${randomBytes(6).toString('hex')}`;
    const results = await Promise.all([
      users.insertIfNew(user({ openid })),
      users.insertIfNew(user({ openid })),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect((await users.findByOpenid(openid))?.openid).toBe(openid);
  });

  it('an erased user is never written again', async () => {
    const target = user();
    await users.insertIfNew(target);
    expect(await users.updateUnlessErased(target.id, { status: 'erased', openid: null })).toBe(true);
    expect(await users.updateUnlessErased(target.id, { nickname: 'ghost' })).toBe(false);
    expect((await users.findById(target.id))?.nickname).toBeNull();
    expect(await users.updateUnlessErased(randomUUID(), { nickname: 'nobody' })).toBe(false);
  });

  it('a transaction commits whole or not at all, and after-commit hooks run only after a commit', async () => {
    const target = user();
    await users.insertIfNew(target);
    const hooks: string[] = [];
    await expect(
      uow.run(async (tx) => {
        await users.updateUnlessErased(target.id, { status: 'disabled' }, tx);
        await audit.insert(
          {
            id: randomUUID(),
            event: 'status_changed',
            userId: target.id,
            actorId: null,
            sessionId: null,
            orderId: null,
            ip: null,
            requestId: null,
            detail: null,
            createdAt: new Date(),
          },
          tx,
        );
        tx.afterCommit(() => hooks.push('ran'));
        throw new Error('rule broken half-way');
      }),
    ).rejects.toThrow('rule broken half-way');
    expect((await users.findById(target.id))?.status).toBe('active');
    expect(await ds.getRepository(AuditEventEntity).countBy({ userId: target.id })).toBe(0);
    expect(hooks).toEqual([]);

    await uow.run(async (tx) => {
      await users.updateUnlessErased(target.id, { status: 'disabled' }, tx);
      await keys.delete(target.id, tx);
      tx.afterCommit(() => hooks.push('ran'));
    });
    expect((await users.findById(target.id))?.status).toBe('disabled');
    expect(hooks).toEqual(['ran']);
  });

  it('the status read after a login waits for a disable in progress and sees its outcome', async () => {
    const target = user();
    await users.insertIfNew(target);
    let committed = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const disable = uow.run(async (tx) => {
      await users.updateUnlessErased(target.id, { status: 'disabled' }, tx);
      entered();
      await held;
      committed = true;
    });
    await inside;
    const read = users.findCommittedStatus(target.id);
    // Give the read every chance to answer early, from the row as it was before the disable.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await read).toBe('disabled');
    await disable;
    expect(committed).toBe(true);
  });

  it('a closed database (shutdown) is reported as 503 by the repository, not as a driver error', async () => {
    const { ds: other, drop: dropOther } = await openDatabase(kind);
    const repo = new TypeormUserRepository(other.getRepository(UserEntity));
    await other.destroy();
    await dropOther();
    const error = await repo.findById(randomUUID()).catch((e: unknown) => e);
    // SQLite's closed handle and MariaDB's closed pool both count as "the database is unavailable".
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(50300);
  });
});
