import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/load-config.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { ENTITIES } from '../../src/entities.js';
import { currentDb, MARIADB_ROOT_URL } from '../support/app-harness.js';

// The migrations are the schema (synchronize is never used): on each database they must build
// exactly what the entities describe, and undo cleanly.
describe('database schema', () => {
  let dataSource: DataSource;
  let dropDatabase = async () => {};

  beforeAll(async () => {
    let url = 'sqlite::memory:';
    if (currentDb() === 'mariadb') {
      const name = `e2e_schema_${randomBytes(4).toString('hex')}`;
      const admin = await mysql.createConnection(MARIADB_ROOT_URL);
      await admin.query(`CREATE DATABASE \`${name}\``);
      await admin.end();
      // mariadb:// so TypeORM reads MariaDB's information_schema the MariaDB way.
      url = `${MARIADB_ROOT_URL.replace(/^mysql:/, 'mariadb:')}/${name}`;
      dropDatabase = async () => {
        const conn = await mysql.createConnection(MARIADB_ROOT_URL);
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await conn.end();
      };
    }
    dataSource = await new DataSource(
      dataSourceOptions(loadConfig({ DATABASE_URL: url }).database, { entities: ENTITIES }),
    ).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase();
  });

  it('migrations build what the entities describe, with nothing left for TypeORM to change', async () => {
    expect((await dataSource.runMigrations()).length).toBeGreaterThan(0);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('the openid index is unique, so two first logins cannot make two users', async () => {
    const insert = (id: string) =>
      dataSource.query(
        'INSERT INTO users (id, openid, role, status, gender, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [id, 'o_same', 'user', 'active', 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'],
      );
    await insert('a'.repeat(36));
    await expect(insert('b'.repeat(36))).rejects.toThrow();
  });

  it('reverts to an empty database', async () => {
    for (let i = 0; i < dataSource.migrations.length; i++) await dataSource.undoLastMigration();
    const runner = dataSource.createQueryRunner();
    try {
      for (const { tableName } of dataSource.entityMetadatas) {
        expect([tableName, await runner.hasTable(tableName)]).toEqual([tableName, false]);
      }
    } finally {
      await runner.release();
    }
  });
});
