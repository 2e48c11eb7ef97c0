import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// TypeORM's Table API keeps this portable (MySQL/MariaDB and SQLite); test/e2e/schema checks
// that the entities and the migrated schema agree on both.
export class Products1796156162279 implements MigrationInterface {
  name = 'Products1796156162279';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'products',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'title', type: 'varchar', length: '128' },
          // TEXT takes no default on MySQL: the service always writes one ("" / "[]").
          { name: 'description', type: 'text' },
          { name: 'price', type: 'integer' },
          { name: 'stock', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16', default: "'on_sale'" },
          { name: 'image_urls', type: 'text' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          // The public list: on-sale products, newest first.
          new TableIndex({ name: 'ix_products_status_created', columnNames: ['status', 'created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('products');
  }
}
