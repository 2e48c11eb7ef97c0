import { Injectable } from '@nestjs/common';
import type { AuditEventType } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { ProductRepository } from '../products/product.repository.js';
import type { OrderItemEntity } from './order-item.entity.js';
import { OrderMetrics } from './order-metrics.js';
import { nextStatus, type OrderAction, type OrderStatus } from './order-state.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository, type InsertOutcome } from './order.repository.js';

/**
 * The actions that move an order (or, for `refund_partial` and `refund_ended`, record a refund or
 * its outcome without moving it).
 */
export type TransitionAction = Exclude<OrderAction, 'pay'>;

export interface TransitionInput {
  action: TransitionAction;
  /** Columns written with the status: `transactionId` and `paidAt` (paid), `trackingNo` (ship). */
  set?: Partial<Pick<OrderEntity, 'transactionId' | 'paidAt' | 'trackingNo'>>;
  /** Fen added to `refundedAmount` in the same statement (a refund that succeeded). */
  refunded?: number;
  /**
   * The audit entry, when the action's own is not the one (refund outcomes: `refund_succeeded` or
   * `refund_failed` for `refund_settled` / `refund_ended`).
   */
  event?: AuditEventType;
  /** Short, non-secret, for the entry (`via notification`, `tracking SF123`). */
  detail?: string;
  /** Who acted: the owner, an admin, or null for the service and WeChat Pay. */
  actorId?: string | null;
  meta?: RequestMeta;
  /**
   * Checked on the locked row, after the state table and before anything changes; throw to refuse (the transaction rolls
   * back). E.g. "cancel at once only if no prepay was requested meanwhile".
   */
  precondition?: (current: OrderEntity) => void;
}

export interface TransitionResult {
  /** The order as the transition left it. */
  order: OrderEntity;
  from: OrderStatus;
}

const EVENTS: Record<TransitionAction, AuditEventType | null> = {
  paid: 'order_paid',
  cancel: 'order_cancelled',
  expire: 'order_expired',
  ship: 'order_shipped',
  confirm: 'order_completed',
  refund_partial: 'refund_requested',
  refund_full: 'refund_requested',
  refund_ended: null,
  refund_settled: null,
};

/**
 * The one place an order changes state. Each change, in one transaction: the row is read under a
 * lock, the state table decides (409 / 40911 with the status it has now), the change is written
 * as a compare-and-set on the status it was read in, stock is given back on cancel and expiry
 * (so exactly once: only one transaction ever leaves `pending_payment`), and exactly one audit
 * entry is written. `orders_total{status}` counts after the commit.
 */
@Injectable()
export class OrderTransitions {
  constructor(
    private readonly orders: OrderRepository,
    private readonly products: ProductRepository,
    private readonly audit: AuditService,
    private readonly metrics: OrderMetrics,
    private readonly uow: UnitOfWork,
  ) {}

  /** A new order and its lines inside `tx` (which also reserved the stock), with `order_created`. */
  async create(
    order: OrderEntity,
    items: OrderItemEntity[],
    meta: RequestMeta | undefined,
    tx: Transaction,
  ): Promise<InsertOutcome> {
    const outcome = await this.orders.insert(order, items, tx);
    if (outcome !== 'inserted') return outcome;
    await this.audit.record(
      'order_created',
      {
        userId: order.userId,
        actorId: order.userId,
        orderId: order.id,
        meta,
        detail: `${items.length} line(s), ${order.totalAmount} fen`,
      },
      tx,
    );
    tx.afterCommit(() => this.metrics.orders.inc({ status: order.status }));
    return outcome;
  }

  /** `input.action` on the order, in a transaction of its own. */
  apply(orderId: string, input: TransitionInput): Promise<TransitionResult> {
    return this.uow.run((tx) => this.applyIn(tx, orderId, input));
  }

  /**
   * The same inside the caller's transaction, for rules whose other writes must land with the
   * change (a refund row and the order moving to `refunding`).
   */
  async applyIn(tx: Transaction, orderId: string, input: TransitionInput): Promise<TransitionResult> {
    const current = await this.orders.findForUpdate(orderId, tx);
    if (!current) throw new AppError(ErrorCode.NOT_FOUND, 'no such order');
    const from = current.status;
    const refundedAmount = current.refundedAmount + (input.refunded ?? 0);
    const to = nextStatus(from, input.action, {
      totalAmount: current.totalAmount,
      refundedAmount,
      statusBeforeRefunding: current.statusBeforeRefunding,
    });
    input.precondition?.(current);
    const now = new Date();
    const patch: Partial<OrderEntity> = { status: to, updatedAt: now, ...input.set };
    if (input.refunded) patch.refundedAmount = refundedAmount;
    switch (input.action) {
      case 'paid':
        patch.paidAt = input.set?.paidAt ?? now;
        break;
      case 'cancel':
      case 'expire':
        Object.assign(patch, {
          cancelReason: input.action === 'cancel' ? 'user' : 'expired',
          cancelledAt: now,
          settleLeaseOwner: null,
          settleLeaseUntil: null,
          settleNextAttemptAt: null,
        });
        break;
      case 'ship':
        patch.shippedAt = now;
        patch.trackingNo = input.set?.trackingNo ?? null;
        break;
      case 'confirm':
        patch.completedAt = now;
        break;
      case 'refund_full':
        patch.statusBeforeRefunding = from;
        break;
      case 'refund_settled':
        patch.statusBeforeRefunding = null;
        break;
    }
    // The row is locked, so this cannot miss; it stays as the guard should a caller's
    // transaction ever read the order some other way.
    if (!(await this.orders.updateIfStatus(orderId, from, patch, tx))) {
      throw new AppError(ErrorCode.ORDER_STATE_CONFLICT, 'the order changed meanwhile', {
        data: { status: (await this.orders.findById(orderId, tx))?.status ?? from },
      });
    }
    if (input.action === 'cancel' || input.action === 'expire') {
      const items = await this.orders.findItems([orderId], tx);
      await this.products.release(
        items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
        tx,
      );
    }
    const event = input.event ?? EVENTS[input.action];
    if (!event) throw new Error(`${input.action} needs the audit event it records`);
    await this.audit.record(
      event,
      {
        userId: current.userId,
        actorId: input.actorId ?? null,
        orderId,
        meta: input.meta,
        detail: [from === to ? from : `${from}->${to}`, input.detail].filter(Boolean).join(', '),
      },
      tx,
    );
    if (to !== from) tx.afterCommit(() => this.metrics.orders.inc({ status: to }));
    return { order: { ...current, ...patch }, from };
  }
}
