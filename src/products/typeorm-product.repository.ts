import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type EntityManager, type Repository } from 'typeorm';
import { ReportsOutages } from '../database/db-errors.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { ProductEntity } from './product.entity.js';
import {
  assertQuantities,
  ProductRepository,
  type ProductFilter,
  type StockLine,
} from './product.repository.js';

/** '!' as the LIKE escape: MySQL and SQLite disagree about backslashes. */
const likeContaining = (text: string): string => `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;

/** Lines in one order of ids, so two transactions lock shared rows in the same order (no deadlock). */
const byProduct = (lines: StockLine[]): StockLine[] =>
  [...lines].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));

@Injectable()
@ReportsOutages()
export class TypeormProductRepository extends ProductRepository {
  private readonly take: string;
  private readonly giveBack: string;

  constructor(@InjectRepository(ProductEntity) private readonly products: Repository<ProductEntity>) {
    super();
    const { driver } = products.manager.connection;
    const column = (property: keyof ProductEntity) => {
      const found = products.metadata.findColumnWithPropertyName(property);
      if (!found) throw new Error(`products has no column ${property}`);
      return driver.escape(found.databaseName);
    };
    const [table, id, stock, status, updatedAt] = [
      driver.escape(products.metadata.tableName),
      column('id'),
      column('stock'),
      column('status'),
      column('updatedAt'),
    ];
    // Check and take in one statement: the row lock the UPDATE holds until the commit is what keeps
    // two transactions (on any instance) from both seeing the last unit.
    this.take =
      `UPDATE ${table} SET ${stock} = ${stock} - ?, ${updatedAt} = ? ` +
      `WHERE ${id} = ? AND ${status} = 'on_sale' AND ${stock} >= ?`;
    this.giveBack = `UPDATE ${table} SET ${stock} = ${stock} + ?, ${updatedAt} = ? WHERE ${id} = ?`;
  }

  findById(id: string): Promise<ProductEntity | null> {
    return this.products.findOneBy({ id });
  }

  async findByIds(ids: string[], tx?: Transaction): Promise<ProductEntity[]> {
    if (ids.length === 0) return [];
    return managerOf(tx, this.products.manager).findBy(ProductEntity, { id: In(ids) });
  }

  async insert(product: ProductEntity): Promise<void> {
    await this.products.insert(product);
  }

  async update(id: string, patch: Partial<ProductEntity>): Promise<ProductEntity | null> {
    if (Object.keys(patch).length > 0) {
      // mysql2 asks for found rows (CLIENT_FOUND_ROWS) and SQLite counts matched rows, so an update
      // that changes nothing still says the row exists.
      const result = await this.products.update({ id }, patch);
      if (result.affected === 0) return null;
    }
    return this.products.findOneBy({ id });
  }

  async list(filter: ProductFilter): Promise<{ items: ProductEntity[]; total: number }> {
    const qb = this.products.createQueryBuilder('p');
    if (filter.status) qb.andWhere('p.status = :status', { status: filter.status });
    if (filter.q) {
      // LOWER on both sides, in the database: MariaDB folds all of Unicode whatever the column's
      // collation; SQLite's LIKE and LOWER fold ASCII only, so there a non-ASCII title is found by
      // its own spelling. Lowering the pattern in JavaScript instead would lose even that on SQLite.
      qb.andWhere("LOWER(p.title) LIKE LOWER(:pattern) ESCAPE '!'", { pattern: likeContaining(filter.q) });
    }
    const [items, total] = await qb
      .orderBy('p.created_at', 'DESC')
      .addOrderBy('p.id', 'ASC')
      .skip((filter.page - 1) * filter.pageSize)
      .take(filter.pageSize)
      .getManyAndCount();
    return { items, total };
  }

  async reserve(lines: StockLine[], tx: Transaction): Promise<string[]> {
    assertQuantities(lines);
    const failed: string[] = [];
    const now = this.now();
    for (const line of byProduct(lines)) {
      const affected = await this.run(tx, this.take, [line.quantity, now, line.productId, line.quantity]);
      if (affected !== 1) failed.push(line.productId);
    }
    return failed;
  }

  async release(lines: StockLine[], tx: Transaction): Promise<void> {
    assertQuantities(lines);
    const now = this.now();
    for (const line of byProduct(lines)) {
      await this.run(tx, this.giveBack, [line.quantity, now, line.productId]);
    }
  }

  /** The time as the driver writes a DATETIME(3) (a string on SQLite, a Date on MySQL). */
  private now(): unknown {
    const column = this.products.metadata.findColumnWithPropertyName('updatedAt');
    return this.products.manager.connection.driver.preparePersistentValue(new Date(), column!);
  }

  /**
   * Rows changed by one statement of `tx`. Through the query runner's structured result, because
   * both drivers report the count there (`affectedRows` of mysql2, `changes` of better-sqlite3);
   * `manager.query` gives better-sqlite3's last row id instead.
   */
  private async run(tx: Transaction, sql: string, params: unknown[]): Promise<number> {
    const manager: EntityManager = managerOf(tx, this.products.manager);
    if (!manager.queryRunner) throw new Error('stock changes run inside a transaction');
    const result = await manager.queryRunner.query(sql, params, true);
    return result.affected ?? 0;
  }
}
