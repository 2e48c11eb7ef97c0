/**
 * An in-memory OrderRepository, and the orders module wired by hand over it (`orderWorld()`), for
 * unit tests of the order rules. It keeps the guarantees the rules rely on: the unique indexes
 * (outTradeNo; user + Idempotency-Key) and the compare-and-set on the status, both checked and
 * applied in one synchronous step, so concurrent calls cannot both win. Writes take effect at once
 * and are undone if their transaction fails (RollbackAwareUnitOfWork), as a database's would be.
 */
import { AuditService } from '../../src/audit/audit.service.js';
import type { Transaction } from '../../src/database/unit-of-work.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { OrderActions } from '../../src/orders/order-actions.service.js';
import type { OrderItemEntity } from '../../src/orders/order-item.entity.js';
import { OrderMetrics } from '../../src/orders/order-metrics.js';
import { OrderPayments } from '../../src/orders/order-payments.service.js';
import { OrderPlacement } from '../../src/orders/order-placement.service.js';
import { OrderQueries } from '../../src/orders/order-queries.service.js';
import { OrderSettlement } from '../../src/orders/order-settlement.service.js';
import type { OrderStatus } from '../../src/orders/order-state.js';
import { OrderTransitions } from '../../src/orders/order-transitions.js';
import type { OrderEntity } from '../../src/orders/order.entity.js';
import { OrderRepository, type InsertOutcome, type OrderFilter } from '../../src/orders/order.repository.js';
import { PaymentNotificationsService } from '../../src/orders/payment-notifications.service.js';
import { OrderExpiryPoller } from '../../src/orders/order-expiry.poller.js';
import { OrderRefunds } from '../../src/orders/order-refunds.service.js';
import { DEFAULT_ORDER_POLLING, type OrderPolling } from '../../src/orders/order-polling.js';
import { RefundNotificationsService } from '../../src/orders/refund-notifications.service.js';
import { RefundQueryPoller } from '../../src/orders/refund-query.poller.js';
import { RefundSettlement } from '../../src/orders/refund-settlement.service.js';
import type { RefundEntity, RefundStatus } from '../../src/orders/refund.entity.js';
import type { WechatPaySlice } from '../../src/config/config.slices.js';
import { FAKE_APPID, FAKE_MCHID, FakePayClient, TrustingVerifier } from './fake-pay-client.js';
import {
  InMemoryProductRepository,
  onRollback,
  productRow,
  RollbackAwareUnitOfWork,
} from './in-memory-products.js';
import { unitWorld } from './unit-world.js';

const copy = <T extends object>(row: T): T => ({ ...row });

/** Runs `write` now and undoes it with `undo` if `tx` rolls back. */
function now(tx: Transaction | undefined, write: () => void, undo: () => void): void {
  write();
  if (tx) onRollback(tx, undo);
}

export class InMemoryOrderRepository extends OrderRepository {
  readonly rows = new Map<string, OrderEntity>();
  readonly items: OrderItemEntity[] = [];
  readonly refunds: RefundEntity[] = [];

  async insert(order: OrderEntity, items: OrderItemEntity[], tx: Transaction): Promise<InsertOutcome> {
    for (const row of this.rows.values()) {
      if (row.outTradeNo === order.outTradeNo) return 'duplicate';
      if (row.userId === order.userId && row.idempotencyKey === order.idempotencyKey) return 'duplicate';
    }
    now(
      tx,
      () => {
        this.rows.set(order.id, copy(order));
        this.items.push(...items.map(copy));
      },
      () => {
        this.rows.delete(order.id);
        for (let i = this.items.length - 1; i >= 0; i--)
          if (this.items[i].orderId === order.id) this.items.splice(i, 1);
      },
    );
    return 'inserted';
  }

  async findById(id: string): Promise<OrderEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  findForUpdate(id: string): Promise<OrderEntity | null> {
    return this.findById(id);
  }

  async findByIdempotencyKey(userId: string, key: string): Promise<OrderEntity | null> {
    for (const row of this.rows.values())
      if (row.userId === userId && row.idempotencyKey === key) return copy(row);
    return null;
  }

  async findByOutTradeNo(outTradeNo: string): Promise<OrderEntity | null> {
    for (const row of this.rows.values()) if (row.outTradeNo === outTradeNo) return copy(row);
    return null;
  }

  async findItems(orderIds: string[]): Promise<OrderItemEntity[]> {
    return this.items
      .filter((i) => orderIds.includes(i.orderId))
      .sort((a, b) => orderIds.indexOf(a.orderId) - orderIds.indexOf(b.orderId) || a.position - b.position)
      .map(copy);
  }

  async findRefunds(orderIds: string[]): Promise<RefundEntity[]> {
    return this.refunds
      .filter((r) => orderIds.includes(r.orderId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map(copy);
  }

  async insertRefund(refund: RefundEntity, tx: Transaction): Promise<InsertOutcome> {
    if (this.refunds.some((r) => r.outRefundNo === refund.outRefundNo)) return 'duplicate';
    const row = copy(refund);
    now(
      tx,
      () => this.refunds.push(row),
      () => this.refunds.splice(this.refunds.indexOf(row), 1),
    );
    return 'inserted';
  }

  async findRefundById(id: string): Promise<RefundEntity | null> {
    const row = this.refunds.find((r) => r.id === id);
    return row ? copy(row) : null;
  }

  async findRefundByOutRefundNo(outRefundNo: string): Promise<RefundEntity | null> {
    const row = this.refunds.find((r) => r.outRefundNo === outRefundNo);
    return row ? copy(row) : null;
  }

  async updateRefundIfStatus(
    id: string,
    status: RefundStatus,
    patch: Partial<RefundEntity>,
    tx?: Transaction,
  ): Promise<boolean> {
    const row = this.refunds.find((r) => r.id === id);
    if (!row || row.status !== status) return false;
    const before = copy(row);
    now(
      tx,
      () => Object.assign(row, patch),
      () => Object.assign(row, before),
    );
    return true;
  }

  async findOverdue(at: Date, limit: number): Promise<OrderEntity[]> {
    return [...this.rows.values()]
      .filter((o) => o.status === 'pending_payment' && o.expiresAt <= at)
      .filter((o) => o.settleLeaseUntil === null || o.settleLeaseUntil < at)
      .filter((o) => o.settleNextAttemptAt === null || o.settleNextAttemptAt <= at)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async claimSettlement(id: string, owner: string, at: Date, until: Date): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'pending_payment') return false;
    if (row.settleLeaseUntil !== null && row.settleLeaseUntil >= at) return false;
    if (row.settleNextAttemptAt !== null && row.settleNextAttemptAt > at) return false;
    Object.assign(row, { settleLeaseOwner: owner, settleLeaseUntil: until });
    return true;
  }

  async releaseSettlement(id: string, owner: string, nextAttemptAt: Date | null): Promise<void> {
    const row = this.rows.get(id);
    if (!row || row.settleLeaseOwner !== owner) return;
    Object.assign(row, {
      settleLeaseOwner: null,
      settleLeaseUntil: null,
      settleNextAttemptAt: nextAttemptAt,
    });
  }

  async findRefundsDue(at: Date, limit: number): Promise<RefundEntity[]> {
    return this.refunds
      .filter((r) => r.status === 'processing' && r.nextQueryAt !== null && r.nextQueryAt <= at)
      .sort((a, b) => a.nextQueryAt!.getTime() - b.nextQueryAt!.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async claimRefundQuery(id: string, at: Date, next: Date): Promise<boolean> {
    const row = this.refunds.find((r) => r.id === id);
    if (!row || row.status !== 'processing' || row.nextQueryAt === null || row.nextQueryAt > at) return false;
    row.nextQueryAt = next;
    return true;
  }

  async list(filter: OrderFilter): Promise<{ items: OrderEntity[]; total: number }> {
    const matching = [...this.rows.values()]
      .filter((o) => filter.userId === undefined || o.userId === filter.userId)
      .filter((o) => filter.status === undefined || o.status === filter.status)
      .filter((o) => filter.outTradeNo === undefined || o.outTradeNo === filter.outTradeNo)
      .sort(
        (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    const start = (filter.page - 1) * filter.pageSize;
    return { items: matching.slice(start, start + filter.pageSize).map(copy), total: matching.length };
  }

  async updateIfStatus(
    id: string,
    status: OrderStatus,
    patch: Partial<OrderEntity>,
    tx?: Transaction,
  ): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== status) return false;
    const before = copy(row);
    now(
      tx,
      () => Object.assign(row, patch),
      () => Object.assign(row, before),
    );
    return true;
  }

  async blankShippingAddresses(userId: string, tx: Transaction): Promise<void> {
    for (const row of this.rows.values()) {
      if (row.userId !== userId) continue;
      const before = row.shippingAddressEncrypted;
      now(
        tx,
        () => (row.shippingAddressEncrypted = null),
        () => (row.shippingAddressEncrypted = before),
      );
    }
  }
}

export const PAY_CONFIG = { mchid: FAKE_MCHID, appId: FAKE_APPID } as WechatPaySlice;

/** The orders module over in-memory repositories, the fake WeChat Pay and the core's unit world. */
export function orderWorld(options: { paymentTtlSeconds?: number; polling?: Partial<OrderPolling> } = {}) {
  const core = unitWorld();
  const uow = new RollbackAwareUnitOfWork();
  const products = new InMemoryProductRepository();
  const orders = new InMemoryOrderRepository();
  const pay = new FakePayClient();
  const verifier = new TrustingVerifier();
  const audit = new AuditService(core.repos.audit);
  const metrics = new OrderMetrics(new MetricsService());
  const transitions = new OrderTransitions(orders, products, audit, metrics, uow);
  const queries = new OrderQueries(orders, audit, core.cipher);
  const placement = new OrderPlacement(orders, products, transitions, core.cipher, uow, {
    paymentTtlSeconds: options.paymentTtlSeconds ?? 900,
  });
  const payments = new OrderPayments(orders, queries, core.users, pay);
  const settlement = new OrderSettlement(orders, transitions, pay);
  const actions = new OrderActions(queries, settlement, transitions);
  const notifications = new PaymentNotificationsService(
    orders,
    transitions,
    audit,
    metrics,
    verifier,
    PAY_CONFIG,
  );
  const refundSettlement = new RefundSettlement(orders, transitions, uow);
  const refunds = new OrderRefunds(orders, queries, transitions, refundSettlement, uow, pay);
  const refundNotifications = new RefundNotificationsService(
    orders,
    refundSettlement,
    audit,
    metrics,
    verifier,
    PAY_CONFIG,
    null,
  );
  const polling = { ...DEFAULT_ORDER_POLLING, ...options.polling };
  const expiry = new OrderExpiryPoller(orders, settlement, polling);
  const refundQueries = new RefundQueryPoller(orders, refunds, polling);

  /** A user with an openid (prepay needs it). */
  const buyer = async (openid = 'o_buyer') =>
    (await core.users.findOrCreateByOpenid(openid, undefined, 'user')).user;
  /** Products on sale, `stock` units each. */
  const stocked = (count: number, overrides: Parameters<typeof productRow>[0] = {}) =>
    Array.from({ length: count }, (_, i) =>
      products.seed(productRow({ title: `Product ${i + 1}`, ...overrides })),
    );
  /** The audit events of an order, oldest first. */
  const events = (orderId: string) =>
    core.repos.audit.rows.filter((r) => r.orderId === orderId).map((r) => r.event);
  const counted = async (status: string) =>
    (await metrics.orders.get()).values.find((v) => v.labels.status === status)?.value ?? 0;

  return {
    core,
    uow,
    products,
    orders,
    pay,
    audit,
    metrics,
    transitions,
    queries,
    placement,
    payments,
    settlement,
    actions,
    notifications,
    refundSettlement,
    refunds,
    refundNotifications,
    expiry,
    refundQueries,
    buyer,
    stocked,
    events,
    counted,
  };
}
