import {
  Table,
  TableColumn,
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
const int = (name: string): TableColumnOptions => ({ name, type: 'integer' });
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'datetime',
  precision: 3,
  isNullable: nullable,
});

/** Orders, their lines and refunds; audit entries gain the order they are about. */
export class Orders1796156179333 implements MigrationInterface {
  name = 'Orders1796156179333';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          { ...uuid('id'), isPrimary: true },
          varchar('out_trade_no', 32),
          uuid('user_id'),
          varchar('status', 24),
          int('total_amount'),
          { ...int('refunded_amount'), default: 0 },
          { ...varchar('currency', 3), default: "'CNY'" },
          { name: 'shipping_address_encrypted', type: 'text', isNullable: true },
          varchar('transaction_id', 64, true),
          varchar('tracking_no', 64, true),
          varchar('cancel_reason', 16, true),
          varchar('prepay_id', 64, true),
          time('prepay_created_at', true),
          time('prepay_requested_at', true),
          time('expires_at'),
          time('paid_at', true),
          time('shipped_at', true),
          time('completed_at', true),
          time('cancelled_at', true),
          varchar('status_before_refunding', 24, true),
          varchar('idempotency_key', 64),
          varchar('items_fingerprint', 64),
          varchar('settle_lease_owner', 64, true),
          time('settle_lease_until', true),
          time('settle_next_attempt_at', true),
          time('created_at'),
          time('updated_at'),
        ],
        indices: [
          // What makes outTradeNo unique across instances, and a key one order per user.
          new TableIndex({ name: 'uq_orders_out_trade_no', columnNames: ['out_trade_no'], isUnique: true }),
          new TableIndex({
            name: 'uq_orders_user_idempotency',
            columnNames: ['user_id', 'idempotency_key'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_orders_user_created', columnNames: ['user_id', 'created_at'] }),
          new TableIndex({ name: 'ix_orders_status_created', columnNames: ['status', 'created_at'] }),
          // The expiry poller: pending orders past expires_at.
          new TableIndex({ name: 'ix_orders_status_expires', columnNames: ['status', 'expires_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'order_items',
        columns: [
          { ...uuid('order_id'), isPrimary: true },
          { ...int('position'), isPrimary: true },
          uuid('product_id'),
          varchar('title', 128),
          int('unit_price'),
          int('quantity'),
          int('amount'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'refunds',
        columns: [
          { ...uuid('id'), isPrimary: true },
          uuid('order_id'),
          varchar('out_refund_no', 32),
          int('amount'),
          varchar('reason', 80),
          varchar('status', 16),
          varchar('refund_id', 64, true),
          time('created_at'),
          time('completed_at', true),
          time('next_query_at', true),
        ],
        indices: [
          new TableIndex({
            name: 'uq_refunds_out_refund_no',
            columnNames: ['out_refund_no'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_refunds_order_created', columnNames: ['order_id', 'created_at'] }),
          // The refund poller: processing refunds whose next query is due.
          new TableIndex({ name: 'ix_refunds_status_next_query', columnNames: ['status', 'next_query_at'] }),
        ],
      }),
    );
    await queryRunner.addColumn('audit_events', new TableColumn(uuid('order_id', true)));
    await queryRunner.createIndex(
      'audit_events',
      new TableIndex({ name: 'ix_audit_events_order_time', columnNames: ['order_id', 'created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('audit_events', 'ix_audit_events_order_time');
    await queryRunner.dropColumn('audit_events', 'order_id');
    for (const table of ['refunds', 'order_items', 'orders']) await queryRunner.dropTable(table);
  }
}
