import {
  Table,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

// TypeORM's Table API keeps this portable (MySQL/MariaDB and SQLite); test/e2e/schema checks
// that the entities and the migrated schema agree on both.
const uuid = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  isNullable: nullable,
});
const varchar = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
// 'integer': what SQLite reports back for an int column (MySQL makes it INT either way).
const int = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'integer',
  isNullable: nullable,
});
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'datetime',
  precision: 3,
  isNullable: nullable,
});

/** Subscribe messages (the record the job queue's worker sends from) and subscription quotas. */
export class Messages1796159337932 implements MigrationInterface {
  name = 'Messages1796159337932';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          { ...uuid('id'), isPrimary: true },
          varchar('kind', 16),
          uuid('user_id'),
          varchar('template_id', 64),
          varchar('idempotency_key', 128),
          varchar('request_hash', 64),
          // TEXT takes no default on MySQL: the service always writes one.
          { name: 'payload', type: 'text' },
          varchar('status', 16),
          { ...int('attempts'), default: 0 },
          int('wechat_errcode', true),
          time('next_attempt_at', true),
          varchar('lease_owner', 64, true),
          time('lease_until', true),
          uuid('actor_id', true),
          time('created_at'),
          time('sent_at', true),
          time('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_messages_idempotency_key',
            columnNames: ['idempotency_key'],
            isUnique: true,
          }),
          // The sweep: queued messages, by when they are due.
          new TableIndex({ name: 'ix_messages_status_due', columnNames: ['status', 'next_attempt_at'] }),
          // Erasure: a user's messages.
          new TableIndex({ name: 'ix_messages_user', columnNames: ['user_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'subscription_quotas',
        columns: [
          { ...uuid('user_id'), isPrimary: true },
          { ...varchar('template_id', 64), isPrimary: true },
          { ...int('remaining'), default: 0 },
          time('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('subscription_quotas');
    await queryRunner.dropTable('messages');
  }
}
