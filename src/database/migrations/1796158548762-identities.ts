import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// TypeORM's Table API keeps this portable (MySQL/MariaDB and SQLite); test/e2e/schema checks
// that the entities and the migrated schema agree on both.
//
// A user may now hold an official-account openid beside the mini-program one, and a unionid names
// at most one user. Every existing row keeps its values: `openid` stays the mini-program openid under
// its v1 name, and the new column starts empty.
export class Identities1796158548762 implements MigrationInterface {
  name = 'Identities1796158548762';

  async up(queryRunner: QueryRunner): Promise<void> {
    // v1 stored `unionid ?? null`, so an empty string is not expected; were one there, it names
    // nobody, and the unique index below would otherwise refuse two of them.
    await queryRunner.query(`UPDATE users SET unionid = NULL WHERE unionid = ''`);
    // v1 could not give one unionid to two users (one person has one openid per app, and erasure
    // blanks both). Should a hand-edited database hold such rows, stop rather than drop a value.
    const shared = (await queryRunner.query(
      `SELECT COUNT(*) AS n FROM (SELECT unionid FROM users WHERE unionid IS NOT NULL GROUP BY unionid HAVING COUNT(*) > 1) d`,
    )) as Array<{ n: number | string }>;
    if (Number(shared[0]?.n ?? 0) > 0) {
      throw new Error(
        `identities: ${shared[0].n} unionid value(s) are held by more than one user; ` +
          'give each to one user (the others NULL), then run the migrations again',
      );
    }
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'oa_openid', type: 'varchar', length: '64', isNullable: true }),
    );
    await queryRunner.createIndex(
      'users',
      new TableIndex({ name: 'uq_users_oa_openid', columnNames: ['oa_openid'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'users',
      new TableIndex({ name: 'uq_users_unionid', columnNames: ['unionid'], isUnique: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The OA openids go with their column: v1 has no place for them.
    await queryRunner.dropIndex('users', 'uq_users_unionid');
    await queryRunner.dropIndex('users', 'uq_users_oa_openid');
    await queryRunner.dropColumn('users', 'oa_openid');
  }
}
