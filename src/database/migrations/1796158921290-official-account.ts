import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// TypeORM's Table API keeps this portable (MySQL/MariaDB and SQLite); test/e2e/schema checks
// that the entities and the migrated schema agree on both.
//
// The official account's callback: its followers (one row per OA openid, linked to a user once
// known) and the admin's keyword rules. Both tables are new; nothing existing changes.
export class OfficialAccount1796158921290 implements MigrationInterface {
  name = 'OfficialAccount1796158921290';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'oa_followers',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'openid', type: 'varchar', length: '64' },
          { name: 'unionid', type: 'varchar', length: '64', isNullable: true },
          { name: 'subscribed', type: 'boolean' },
          { name: 'subscribed_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'unsubscribed_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'last_interaction_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          new TableIndex({ name: 'uq_oa_followers_openid', columnNames: ['openid'], isUnique: true }),
          // Erasure finds a user's follower records.
          new TableIndex({ name: 'ix_oa_followers_user', columnNames: ['user_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'oa_auto_replies',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'match', type: 'varchar', length: '16' },
          { name: 'keyword', type: 'varchar', length: '128' },
          { name: 'keyword_hash', type: 'varchar', length: '64' },
          { name: 'reply', type: 'varchar', length: '600' },
          { name: 'enabled', type: 'boolean' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          // One rule per (match, keyword), the keyword compared as bytes (through its hash).
          new TableIndex({
            name: 'uq_oa_auto_replies_match_keyword',
            columnNames: ['match', 'keyword_hash'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('oa_auto_replies');
    await queryRunner.dropTable('oa_followers');
  }
}
