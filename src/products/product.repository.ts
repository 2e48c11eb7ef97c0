import type { Transaction } from '../database/unit-of-work.js';
import type { ProductEntity, ProductStatus } from './product.entity.js';

export interface ProductFilter {
  /** Without a status, both. */
  status?: ProductStatus;
  /** Part of the title, case-insensitive. */
  q?: string;
  page: number;
  pageSize: number;
}

export interface StockLine {
  productId: string;
  quantity: number;
}

/** A zero or negative quantity would pass `stock >= q` and add stock: a caller's bug, refused by
 * every adapter before any statement. */
export function assertQuantities(lines: StockLine[]): void {
  for (const { quantity } of lines) {
    if (!Number.isSafeInteger(quantity) || quantity < 1)
      throw new Error('stock lines need positive integer quantities');
  }
}

export abstract class ProductRepository {
  abstract findById(id: string): Promise<ProductEntity | null>;
  /** The products of these ids that exist (any status), in no particular order. */
  abstract findByIds(ids: string[], tx?: Transaction): Promise<ProductEntity[]>;
  abstract insert(product: ProductEntity): Promise<void>;
  abstract update(id: string, patch: Partial<ProductEntity>): Promise<ProductEntity | null>;
  /** Newest first, ties by id. */
  abstract list(filter: ProductFilter): Promise<{ items: ProductEntity[]; total: number }>;
  /**
   * Takes every line from stock inside `tx`, each with one conditional update
   * (`stock = stock - q WHERE id = ? AND status = 'on_sale' AND stock >= q`), so no two
   * transactions, on any instance, can take the same unit. Returns the ids of the lines that could
   * not be taken; the caller then rolls `tx` back, so it is all or none.
   */
  abstract reserve(lines: StockLine[], tx: Transaction): Promise<string[]>;
  /** Gives units back (cancel, expiry), whatever the product's status now. */
  abstract release(lines: StockLine[], tx: Transaction): Promise<void>;
}
