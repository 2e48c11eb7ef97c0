import {
  Table,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

// Written with TypeORM's Table API rather than raw SQL so the one migration set runs on MySQL/MariaDB
// and SQLite alike; test/e2e/schema checks that the entities and this schema agree on both.
const uuid = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  ...extra,
});
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'datetime',
  precision: 3,
  isNullable: nullable,
});
const text = (name: string, length: number, nullable = true): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          uuid('id', { isPrimary: true }),
          text('openid', 64),
          text('unionid', 64),
          text('nickname', 64),
          text('avatar_url', 1024),
          { name: 'gender', type: 'smallint', default: 0 },
          text('phone_encrypted', 255),
          text('phone_masked', 32),
          { ...text('role', 16, false), default: "'user'" },
          { ...text('status', 16, false), default: "'active'" },
          time('created_at'),
          time('updated_at'),
          time('erased_at', true),
        ],
        indices: [
          new TableIndex({ name: 'uq_users_openid', columnNames: ['openid'], isUnique: true }),
          new TableIndex({ name: 'ix_users_status_created', columnNames: ['status'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'wechat_session_keys',
        columns: [
          uuid('user_id', { isPrimary: true }),
          text('session_key_encrypted', 255, false),
          time('updated_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'login_sessions',
        columns: [
          uuid('id', { isPrimary: true }),
          uuid('user_id'),
          text('refresh_token_hash', 64, false),
          { name: 'generation', type: 'integer', default: 0 },
          time('created_at'),
          time('last_used_at'),
          time('expires_at'),
          time('revoked_at', true),
          text('revoke_reason', 16),
          text('user_agent', 256),
          text('ip', 64),
        ],
        indices: [new TableIndex({ name: 'ix_login_sessions_user', columnNames: ['user_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          uuid('id', { isPrimary: true }),
          text('event', 32, false),
          uuid('user_id', { isNullable: true }),
          uuid('actor_id', { isNullable: true }),
          uuid('session_id', { isNullable: true }),
          text('ip', 64),
          text('request_id', 128),
          text('detail', 512),
          time('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_audit_events_user_time', columnNames: ['user_id', 'created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'login_sessions', 'wechat_session_keys', 'users']) {
      await queryRunner.dropTable(table);
    }
  }
}
