import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { loadConfig } from '../../src/config/load-config.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { Identities1796158548762 } from '../../src/database/migrations/1796158548762-identities.js';
import { MIGRATIONS } from '../../src/database/migrations/index.js';
import { currentDb, MARIADB_ROOT_URL } from '../support/app-harness.js';

// The identities migration on a database that already has v1 users: every row keeps every value,
// the new column starts empty, the new unique indexes hold, and reverting keeps the v1 data.
const BEFORE = MIGRATIONS.filter((m) => m !== Identities1796158548762);
const COLUMNS = [
  'id',
  'openid',
  'unionid',
  'nickname',
  'avatar_url',
  'gender',
  'phone_encrypted',
  'phone_masked',
  'role',
  'status',
  'created_at',
  'updated_at',
  'erased_at',
];

interface V1Row {
  id: string;
  openid: string | null;
  unionid: string | null;
  nickname: string | null;
  avatar_url: string | null;
  gender: number;
  phone_encrypted: string | null;
  phone_masked: string | null;
  role: string;
  status: string;
  created_at: string;
  updated_at: string;
  erased_at: string | null;
}

const row = (n: number, overrides: Partial<V1Row> = {}): V1Row => ({
  id: `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`,
  openid: `o_v1_${n}`,
  unionid: null,
  nickname: `用户${n} 😀`,
  avatar_url: `https://thirdwx.qlogo.cn/mmopen/${n}/132`,
  gender: n % 3,
  phone_encrypted: `v1.ciphertext.${n}`,
  phone_masked: '138****8000',
  role: n === 1 ? 'admin' : 'user',
  status: 'active',
  created_at: `2026-01-0${n} 08:00:00.123`,
  updated_at: `2026-02-0${n} 09:30:00.456`,
  erased_at: null,
  ...overrides,
});

const V1_ROWS: V1Row[] = [
  row(1, { unionid: 'u_v1_1' }),
  row(2),
  row(3, { unionid: 'u_v1_3', nickname: null, avatar_url: null, phone_encrypted: null, phone_masked: null }),
  row(4, { status: 'disabled' }),
  row(5, {
    openid: null,
    unionid: null,
    nickname: null,
    avatar_url: null,
    phone_encrypted: null,
    phone_masked: null,
    status: 'erased',
    erased_at: '2026-03-01 10:00:00.000',
  }),
  row(6, {
    openid: null,
    nickname: null,
    avatar_url: null,
    phone_encrypted: null,
    phone_masked: null,
    status: 'erased',
    erased_at: '2026-03-02 10:00:00.000',
  }),
];

describe('identities migration over v1 data', () => {
  let options: DataSourceOptions;
  let cleanup = async () => {};

  beforeEach(async () => {
    let url: string;
    if (currentDb() === 'mariadb') {
      const name = `e2e_ident_${randomBytes(4).toString('hex')}`;
      const admin = await mysql.createConnection(MARIADB_ROOT_URL);
      await admin.query(`CREATE DATABASE \`${name}\``);
      await admin.end();
      url = `${MARIADB_ROOT_URL}/${name}`;
      cleanup = async () => {
        const conn = await mysql.createConnection(MARIADB_ROOT_URL);
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await conn.end();
      };
    } else {
      const file = join(tmpdir(), `e2e_ident_${process.pid}_${randomBytes(4).toString('hex')}.sqlite`);
      url = `sqlite:${file}`;
      cleanup = async () => {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
      };
    }
    options = dataSourceOptions(loadConfig({ DATABASE_URL: url }).database);
  });

  afterEach(() => cleanup());

  /** A data source on the test database that knows only `migrations`. */
  const open = (migrations: DataSourceOptions['migrations']) =>
    new DataSource({ ...options, migrations } as DataSourceOptions).initialize();

  async function seedV1(rows: V1Row[]): Promise<void> {
    const v1 = await open(BEFORE);
    try {
      await v1.runMigrations();
      for (const r of rows) {
        await v1.query(
          `INSERT INTO users (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
          COLUMNS.map((c) => r[c as keyof V1Row]),
        );
      }
    } finally {
      await v1.destroy();
    }
  }

  /** The v1 columns of every user, as text, ordered by id. */
  async function v1View(ds: DataSource): Promise<Array<Record<string, string | null>>> {
    const rows = (await ds.query(`SELECT ${COLUMNS.join(', ')} FROM users ORDER BY id`)) as Array<
      Record<string, unknown>
    >;
    return rows.map((r) =>
      Object.fromEntries(
        COLUMNS.map((c) => {
          const value = r[c];
          if (value === null || value === undefined) return [c, null];
          if (value instanceof Date) return [c, value.toISOString().replace('T', ' ').replace('Z', '')];
          return [c, String(value)];
        }),
      ),
    );
  }

  const expected = (rows: V1Row[]) =>
    rows.map((r) =>
      Object.fromEntries(
        COLUMNS.map((c) => [c, r[c as keyof V1Row] === null ? null : String(r[c as keyof V1Row])]),
      ),
    );

  it('keeps every v1 value, adds an empty OA openid, and reverts without loss', async () => {
    await seedV1(V1_ROWS);
    const ds = await open(MIGRATIONS);
    try {
      const ran = await ds.runMigrations();
      expect(ran.map((m) => m.name)).toEqual(['Identities1796158548762']);
      expect(await v1View(ds)).toEqual(expected(V1_ROWS));
      const oa = (await ds.query('SELECT oa_openid FROM users')) as Array<{ oa_openid: string | null }>;
      expect(oa.map((r) => r.oa_openid)).toEqual(V1_ROWS.map(() => null));

      // The new indexes: one OA openid and one unionid per user; many users without either.
      await ds.query(`UPDATE users SET oa_openid = ? WHERE id = ?`, ['oa_1', V1_ROWS[1].id]);
      await expect(
        ds.query(`UPDATE users SET oa_openid = ? WHERE id = ?`, ['oa_1', V1_ROWS[2].id]),
      ).rejects.toThrow();
      await expect(
        ds.query(`UPDATE users SET unionid = ? WHERE id = ?`, ['u_v1_1', V1_ROWS[1].id]),
      ).rejects.toThrow();
      // The v1 index still holds.
      await expect(
        ds.query(`UPDATE users SET openid = ? WHERE id = ?`, ['o_v1_1', V1_ROWS[1].id]),
      ).rejects.toThrow();

      await ds.undoLastMigration();
      expect(await v1View(ds)).toEqual(expected(V1_ROWS));
      const runner = ds.createQueryRunner();
      try {
        expect(await runner.hasColumn('users', 'oa_openid')).toBe(false);
      } finally {
        await runner.release();
      }
    } finally {
      await ds.destroy();
    }
  });

  it('an empty-string unionid (names nobody) becomes NULL; everything else stays', async () => {
    const rows = [row(1, { unionid: '' }), row(2, { unionid: '' }), row(3, { unionid: 'u_v1_3' })];
    await seedV1(rows);
    const ds = await open(MIGRATIONS);
    try {
      await ds.runMigrations();
      const fixed = rows.map((r) => ({ ...r, unionid: r.unionid === '' ? null : r.unionid }));
      expect(await v1View(ds)).toEqual(expected(fixed));
    } finally {
      await ds.destroy();
    }
  });

  it('refuses, changing nothing, when two users share a unionid (not possible in v1, but no value is dropped)', async () => {
    const rows = [row(1, { unionid: 'u_shared' }), row(2, { unionid: 'u_shared' })];
    await seedV1(rows);
    const ds = await open(MIGRATIONS);
    try {
      await expect(ds.runMigrations()).rejects.toThrow(/held by more than one user/);
      expect(await v1View(ds)).toEqual(expected(rows));
      const runner = ds.createQueryRunner();
      try {
        expect(await runner.hasColumn('users', 'oa_openid')).toBe(false);
      } finally {
        await runner.release();
      }
    } finally {
      await ds.destroy();
    }
  });
});
