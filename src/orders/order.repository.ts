import type { Transaction } from '../database/unit-of-work.js';
import type { OrderItemEntity } from './order-item.entity.js';
import type { OrderStatus } from './order-state.js';
import type { OrderEntity } from './order.entity.js';
import type { RefundEntity, RefundStatus } from './refund.entity.js';

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
  abstract findRefunds(orderIds: string[], tx?: Transaction): Promise<RefundEntity[]>;
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
  /** A new refund inside `tx` (which holds its order's lock); `duplicate` when its outRefundNo is taken. */
  abstract insertRefund(refund: RefundEntity, tx: Transaction): Promise<InsertOutcome>;
  abstract findRefundById(id: string, tx?: Transaction): Promise<RefundEntity | null>;
  abstract findRefundByOutRefundNo(outRefundNo: string): Promise<RefundEntity | null>;
  /** Compare-and-set on the refund's status, as updateIfStatus for orders. */
  abstract updateRefundIfStatus(
    id: string,
    status: RefundStatus,
    patch: Partial<RefundEntity>,
    tx?: Transaction,
  ): Promise<boolean>;

  /**
   * Expiry: `pending_payment` orders whose expiresAt has passed at `now`, neither leased nor waiting
   * for their next attempt, oldest expiry first.
   */
  abstract findOverdue(now: Date, limit: number): Promise<OrderEntity[]>;
  /**
   * Takes the settling lease of an overdue order for `owner` until `until`, in one conditional
   * UPDATE: true for exactly one of several instances asking at once (false once another holds
   * it, it waits for its next attempt, or it is no longer pending).
   */
  abstract claimSettlement(id: string, owner: string, now: Date, until: Date): Promise<boolean>;
  /** Gives the lease back (only `owner`'s), with when to try again (null: no waiting). */
  abstract releaseSettlement(id: string, owner: string, nextAttemptAt: Date | null): Promise<void>;

  /** Refunds still `processing` whose nextQueryAt has come at `now`, the longest waiting first. */
  abstract findRefundsDue(now: Date, limit: number): Promise<RefundEntity[]>;
  /**
   * Claims the query of a due refund by moving its nextQueryAt on to `next` while it is still due
   * and processing: one conditional UPDATE, so one instance wins, and a crash only delays the
   * query to `next`.
   */
  abstract claimRefundQuery(id: string, now: Date, next: Date): Promise<boolean>;

  /** Erasure: every order of the user loses its shipping address. */
  abstract blankShippingAddresses(userId: string, tx: Transaction): Promise<void>;
}
