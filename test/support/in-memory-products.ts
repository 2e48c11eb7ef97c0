/**
 * An in-memory ProductRepository for unit tests of the catalogue and of orders, keeping the one
 * guarantee their rules rely on: a reservation takes every line or none, and stock never goes
 * below zero, however calls interleave.
 *
 * A reservation takes its units at once (as the database's conditional UPDATE does, holding the
 * row until the commit) and gives them back if its transaction does not commit, which only a unit
 * of work that reports rollbacks can tell: use RollbackAwareUnitOfWork (a drop-in
 * InMemoryUnitOfWork). Other writes wait for the commit, like those of the other in-memory
 * repositories.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from '../../src/database/unit-of-work.js';
import type { ProductEntity } from '../../src/products/product.entity.js';
import {
  assertQuantities,
  ProductRepository,
  type ProductFilter,
  type StockLine,
} from '../../src/products/product.repository.js';
import { InMemoryUnitOfWork } from './in-memory-repositories.js';

interface StagingTransaction extends Transaction {
  staged?: Array<() => void>;
}

/** Applies `write` at the commit of an in-memory `tx`, else now. */
function atCommit(tx: Transaction | undefined, write: () => void): void {
  const staged = (tx as StagingTransaction | undefined)?.staged;
  if (staged) staged.push(write);
  else write();
}

const undoByTransaction = new WeakMap<Transaction, Array<() => void>>();
const committed = new WeakSet<Transaction>();

/** Runs `undo` if `tx` ends without committing (RollbackAwareUnitOfWork only). */
export function onRollback(tx: Transaction, undo: () => void): void {
  let undos = undoByTransaction.get(tx);
  if (!undos) {
    undos = [];
    undoByTransaction.set(tx, undos);
    // Staged writes run exactly when the transaction commits: from then on nothing is undone,
    // even if an after-commit hook fails later.
    atCommit(tx, () => committed.add(tx));
  }
  undos.push(undo);
}

/** InMemoryUnitOfWork that also undoes, in reverse order, what a repository did at once in a failed transaction. */
export class RollbackAwareUnitOfWork extends InMemoryUnitOfWork {
  rollbacks = 0;

  override async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    let current: Transaction | undefined;
    try {
      return await super.run((tx) => {
        current = tx;
        return work(tx);
      });
    } catch (error) {
      if (current && !committed.has(current)) {
        for (const undo of (undoByTransaction.get(current) ?? []).reverse()) undo();
        this.rollbacks++;
      }
      throw error;
    }
  }
}

/** A valid product row; `imageUrls` as the service stores it (JSON text). */
export function productRow(overrides: Partial<ProductEntity> = {}): ProductEntity {
  const now = new Date();
  return {
    id: randomUUID(),
    title: 'Test product',
    description: '',
    price: 100,
    stock: 10,
    status: 'on_sale',
    imageUrls: '[]',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

const copy = (row: ProductEntity): ProductEntity => ({ ...row });

export class InMemoryProductRepository extends ProductRepository {
  readonly rows = new Map<string, ProductEntity>();
  /** Every reserve call's lines, in call order (for tests that count attempts). */
  readonly reserveCalls: StockLine[][] = [];

  /** Puts rows in directly (test set-up), returning the first. */
  seed(...rows: ProductEntity[]): ProductEntity {
    for (const row of rows) this.rows.set(row.id, copy(row));
    return rows[0];
  }

  stockOf(id: string): number | undefined {
    return this.rows.get(id)?.stock;
  }

  async findById(id: string): Promise<ProductEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async findByIds(ids: string[]): Promise<ProductEntity[]> {
    return [...new Set(ids)].flatMap((id) => {
      const row = this.rows.get(id);
      return row ? [copy(row)] : [];
    });
  }

  async insert(product: ProductEntity): Promise<void> {
    if (this.rows.has(product.id)) throw new Error(`duplicate product id ${product.id}`);
    this.rows.set(product.id, copy(product));
  }

  async update(id: string, patch: Partial<ProductEntity>): Promise<ProductEntity | null> {
    const row = this.rows.get(id);
    if (!row) return null;
    Object.assign(row, patch);
    return copy(row);
  }

  async list(filter: ProductFilter): Promise<{ items: ProductEntity[]; total: number }> {
    const q = filter.q?.toLowerCase();
    const matching = [...this.rows.values()]
      .filter((p) => !filter.status || p.status === filter.status)
      .filter((p) => !q || p.title.toLowerCase().includes(q))
      .sort(
        (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    const start = (filter.page - 1) * filter.pageSize;
    return { items: matching.slice(start, start + filter.pageSize).map(copy), total: matching.length };
  }

  /**
   * Checks every line and takes them in one synchronous step (no await in between, so no other
   * call can interleave): either all are taken, or none and the failing ids are returned.
   */
  async reserve(lines: StockLine[], tx: Transaction): Promise<string[]> {
    assertQuantities(lines);
    this.reserveCalls.push(lines.map((line) => ({ ...line })));
    const wanted = new Map<string, number>();
    for (const { productId, quantity } of lines)
      wanted.set(productId, (wanted.get(productId) ?? 0) + quantity);
    const failed = [...wanted]
      .filter(([id, quantity]) => {
        const row = this.rows.get(id);
        return !row || row.status !== 'on_sale' || row.stock < quantity;
      })
      .map(([id]) => id);
    if (failed.length > 0) return failed;
    const now = new Date();
    for (const [id, quantity] of wanted) {
      const row = this.rows.get(id) as ProductEntity;
      row.stock -= quantity;
      row.updatedAt = now;
      onRollback(tx, () => {
        const still = this.rows.get(id);
        if (still) still.stock += quantity;
      });
    }
    return [];
  }

  async release(lines: StockLine[], tx: Transaction): Promise<void> {
    assertQuantities(lines);
    atCommit(tx, () => {
      const now = new Date();
      for (const { productId, quantity } of lines) {
        const row = this.rows.get(productId);
        if (!row) continue;
        row.stock += quantity;
        row.updatedAt = now;
      }
    });
  }
}
