import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThan, LessThanOrEqual, Not, Or, type Repository } from 'typeorm';
import { isUniqueViolation, ReportsOutages } from '../database/db-errors.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { OrderItemEntity } from './order-item.entity.js';
import type { OrderStatus } from './order-state.js';
import { OrderEntity } from './order.entity.js';
import { OrderRepository, type InsertOutcome, type OrderFilter } from './order.repository.js';
import { RefundEntity, type RefundStatus } from './refund.entity.js';

@Injectable()
@ReportsOutages()
export class TypeormOrderRepository extends OrderRepository {
  private readonly sqlite: boolean;

  constructor(@InjectRepository(OrderEntity) private readonly orders: Repository<OrderEntity>) {
    super();
    this.sqlite = orders.manager.connection.options.type === 'better-sqlite3';
  }

  async insert(order: OrderEntity, items: OrderItemEntity[], tx: Transaction): Promise<InsertOutcome> {
    const manager = managerOf(tx, this.orders.manager);
    try {
      // Every column is given: no read-back of database defaults (a round trip inside the
      // transaction that reserves stock).
      await manager
        .createQueryBuilder()
        .insert()
        .into(OrderEntity)
        .values(order)
        .updateEntity(false)
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) return 'duplicate';
      throw error;
    }
    await manager
      .createQueryBuilder()
      .insert()
      .into(OrderItemEntity)
      .values(items)
      .updateEntity(false)
      .execute();
    return 'inserted';
  }

  findById(id: string, tx?: Transaction): Promise<OrderEntity | null> {
    return managerOf(tx, this.orders.manager).findOneBy(OrderEntity, { id });
  }

  findForUpdate(id: string, tx: Transaction): Promise<OrderEntity | null> {
    const qb = managerOf(tx, this.orders.manager)
      .createQueryBuilder(OrderEntity, 'o')
      .where('o.id = :id', { id });
    if (!this.sqlite) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  findByIdempotencyKey(userId: string, key: string): Promise<OrderEntity | null> {
    return this.orders.findOneBy({ userId, idempotencyKey: key });
  }

  findByOutTradeNo(outTradeNo: string): Promise<OrderEntity | null> {
    return this.orders.findOneBy({ outTradeNo });
  }

  async findItems(orderIds: string[], tx?: Transaction): Promise<OrderItemEntity[]> {
    if (orderIds.length === 0) return [];
    return managerOf(tx, this.orders.manager).find(OrderItemEntity, {
      where: { orderId: In(orderIds) },
      order: { orderId: 'ASC', position: 'ASC' },
    });
  }

  async findRefunds(orderIds: string[], tx?: Transaction): Promise<RefundEntity[]> {
    if (orderIds.length === 0) return [];
    return managerOf(tx, this.orders.manager).find(RefundEntity, {
      where: { orderId: In(orderIds) },
      order: { createdAt: 'ASC', outRefundNo: 'ASC' },
    });
  }

  async list(filter: OrderFilter): Promise<{ items: OrderEntity[]; total: number }> {
    const qb = this.orders.createQueryBuilder('o');
    if (filter.userId !== undefined) qb.andWhere('o.user_id = :userId', { userId: filter.userId });
    if (filter.status !== undefined) qb.andWhere('o.status = :status', { status: filter.status });
    if (filter.outTradeNo !== undefined) {
      qb.andWhere('o.out_trade_no = :outTradeNo', { outTradeNo: filter.outTradeNo });
    }
    const [items, total] = await qb
      .orderBy('o.created_at', 'DESC')
      .addOrderBy('o.id', 'ASC')
      .skip((filter.page - 1) * filter.pageSize)
      .take(filter.pageSize)
      .getManyAndCount();
    return { items, total };
  }

  async updateIfStatus(
    id: string,
    status: OrderStatus,
    patch: Partial<OrderEntity>,
    tx?: Transaction,
  ): Promise<boolean> {
    // mysql2 reports found rows (CLIENT_FOUND_ROWS) and SQLite matched rows: a patch that happens
    // to change nothing still counts as applied.
    const result = await managerOf(tx, this.orders.manager).update(OrderEntity, { id, status }, patch);
    return (result.affected ?? 0) > 0;
  }

  async insertRefund(refund: RefundEntity, tx: Transaction): Promise<InsertOutcome> {
    try {
      await managerOf(tx, this.orders.manager).insert(RefundEntity, refund);
    } catch (error) {
      if (isUniqueViolation(error)) return 'duplicate';
      throw error;
    }
    return 'inserted';
  }

  findRefundById(id: string, tx?: Transaction): Promise<RefundEntity | null> {
    return managerOf(tx, this.orders.manager).findOneBy(RefundEntity, { id });
  }

  findRefundByOutRefundNo(outRefundNo: string): Promise<RefundEntity | null> {
    return this.orders.manager.findOneBy(RefundEntity, { outRefundNo });
  }

  async updateRefundIfStatus(
    id: string,
    status: RefundStatus,
    patch: Partial<RefundEntity>,
    tx?: Transaction,
  ): Promise<boolean> {
    const result = await managerOf(tx, this.orders.manager).update(RefundEntity, { id, status }, patch);
    return (result.affected ?? 0) > 0;
  }

  findOverdue(now: Date, limit: number): Promise<OrderEntity[]> {
    return this.orders.find({
      where: {
        status: 'pending_payment',
        expiresAt: LessThanOrEqual(now),
        settleLeaseUntil: Or(IsNull(), LessThan(now)),
        settleNextAttemptAt: Or(IsNull(), LessThanOrEqual(now)),
      },
      order: { expiresAt: 'ASC', id: 'ASC' },
      take: limit,
    });
  }

  async claimSettlement(id: string, owner: string, now: Date, until: Date): Promise<boolean> {
    const result = await this.orders.update(
      {
        id,
        status: 'pending_payment',
        settleLeaseUntil: Or(IsNull(), LessThan(now)),
        settleNextAttemptAt: Or(IsNull(), LessThanOrEqual(now)),
      },
      { settleLeaseOwner: owner, settleLeaseUntil: until },
    );
    return (result.affected ?? 0) > 0;
  }

  async releaseSettlement(id: string, owner: string, nextAttemptAt: Date | null): Promise<void> {
    await this.orders.update(
      { id, settleLeaseOwner: owner },
      { settleLeaseOwner: null, settleLeaseUntil: null, settleNextAttemptAt: nextAttemptAt },
    );
  }

  findRefundsDue(now: Date, limit: number): Promise<RefundEntity[]> {
    return this.orders.manager.find(RefundEntity, {
      where: { status: 'processing', nextQueryAt: LessThanOrEqual(now) },
      order: { nextQueryAt: 'ASC', id: 'ASC' },
      take: limit,
    });
  }

  async claimRefundQuery(id: string, now: Date, next: Date): Promise<boolean> {
    const result = await this.orders.manager.update(
      RefundEntity,
      { id, status: 'processing', nextQueryAt: LessThanOrEqual(now) },
      { nextQueryAt: next },
    );
    return (result.affected ?? 0) > 0;
  }

  async blankShippingAddresses(userId: string, tx: Transaction): Promise<void> {
    await managerOf(tx, this.orders.manager).update(
      OrderEntity,
      { userId, shippingAddressEncrypted: Not(IsNull()) },
      { shippingAddressEncrypted: null },
    );
  }
}
