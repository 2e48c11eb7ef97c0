import type { Transaction } from '../database/unit-of-work.js';
import type { OrderItemEntity } from './order-item.entity.js';
import type { OrderStatus } from './order-state.js';
import type { OrderEntity } from './order.entity.js';
import type { RefundEntity } from './refund.entity.js';

export interface OrderFilter {
  userId?: string;
  status?: OrderStatus;
  outTradeNo?: string;
  page: number;
  pageSize: number;
}

/** `duplicate`: the user's key or the outTradeNo is already taken (which one, the caller reads). */
export type InsertOutcome = 'inserted' | 'duplicate';

/** Orders, their lines and refunds. Every statement on these tables lives behind this port. */
export abstract class OrderRepository {
  /**
   * The order and its lines inside `tx`. A unique violation is an answer, not an error: the
   * caller rolls `tx` back, then reads the winner of the key or, if there is none, draws another
   * outTradeNo.
   */
  abstract insert(order: OrderEntity, items: OrderItemEntity[], tx: Transaction): Promise<InsertOutcome>;
  abstract findById(id: string, tx?: Transaction): Promise<OrderEntity | null>;
  /**
   * The row as committed, held until `tx` ends (FOR UPDATE on MySQL/MariaDB; SQLite has one
   * writer at a time, so its plain read inside a transaction is already that).
   */
  abstract findForUpdate(id: string, tx: Transaction): Promise<OrderEntity | null>;
  abstract findByIdempotencyKey(userId: string, key: string): Promise<OrderEntity | null>;
  abstract findByOutTradeNo(outTradeNo: string): Promise<OrderEntity | null>;
  /** The lines of these orders, by order then position. */
  abstract findItems(orderIds: string[], tx?: Transaction): Promise<OrderItemEntity[]>;
  /** The refunds of these orders, oldest first. */
  abstract findRefunds(orderIds: string[]): Promise<RefundEntity[]>;
  /** Newest first, ties by id. */
  abstract list(filter: OrderFilter): Promise<{ items: OrderEntity[]; total: number }>;
  /**
   * Compare-and-set: applies `patch` only while the order is still `status`; false when it is not
   * (or is gone). The guard that makes every transition happen once, whatever runs concurrently.
   */
  abstract updateIfStatus(
    id: string,
    status: OrderStatus,
    patch: Partial<OrderEntity>,
    tx?: Transaction,
  ): Promise<boolean>;
  /** Erasure: every order of the user loses its shipping address. */
  abstract blankShippingAddresses(userId: string, tx: Transaction): Promise<void>;
}
