import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../common/auth/decorators.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { Page } from '../common/validation/page.query.js';
import { DataCipher } from '../security/data-cipher.js';
import type { AdminListOrdersQuery, ListOrdersQuery } from './dto/list-orders.query.js';
import {
  toOrderEvents,
  toOrderView,
  type AdminOrderView,
  type OrderRecord,
  type OrderView,
} from './order-view.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { openAddress } from './shipping-address.js';

const notFound = () => new AppError(ErrorCode.NOT_FOUND, 'no such order');

/** Reading orders: who may see which, and the views (the only place addresses are decrypted). */
@Injectable()
export class OrderQueries {
  constructor(
    private readonly orders: OrderRepository,
    private readonly audit: AuditService,
    private readonly cipher: DataCipher,
  ) {}

  /** The caller's own order; anyone else's is 404, as if it did not exist. */
  async owned(userId: string, id: string): Promise<OrderEntity> {
    const order = await this.orders.findById(id);
    if (!order || order.userId !== userId) throw notFound();
    return order;
  }

  /** The owner's, or any for an admin. */
  async visible(caller: AuthUser, id: string): Promise<OrderEntity> {
    const order = await this.orders.findById(id);
    if (!order || (order.userId !== caller.userId && caller.role !== 'admin')) throw notFound();
    return order;
  }

  async admin(id: string): Promise<OrderEntity> {
    const order = await this.orders.findById(id);
    if (!order) throw notFound();
    return order;
  }

  async listOwn(userId: string, query: ListOrdersQuery): Promise<Page<OrderView>> {
    return this.page({ userId, status: query.status, page: query.page, pageSize: query.pageSize });
  }

  async listAll(query: AdminListOrdersQuery): Promise<Page<OrderView>> {
    return this.page({
      userId: query.userId,
      status: query.status,
      outTradeNo: query.outTradeNo,
      page: query.page,
      pageSize: query.pageSize,
    });
  }

  /** The view of `order` as stored now (its lines and refunds read with it). */
  async view(order: OrderEntity): Promise<OrderView> {
    const [record] = await this.records([order]);
    return this.toView(record);
  }

  /** The view of the order of `id` as committed now. */
  async viewById(id: string): Promise<OrderView> {
    return this.view(await this.admin(id));
  }

  async adminView(id: string): Promise<AdminOrderView> {
    const order = await this.admin(id);
    const [view, entries] = await Promise.all([this.view(order), this.audit.listForOrder(id)]);
    return { ...view, events: toOrderEvents(entries) };
  }

  private async page(filter: Parameters<OrderRepository['list']>[0]): Promise<Page<OrderView>> {
    const { items, total } = await this.orders.list(filter);
    const records = await this.records(items);
    return { items: records.map((r) => this.toView(r)), total, page: filter.page, pageSize: filter.pageSize };
  }

  private async records(orders: OrderEntity[]): Promise<OrderRecord[]> {
    const ids = orders.map((o) => o.id);
    const [items, refunds] = await Promise.all([this.orders.findItems(ids), this.orders.findRefunds(ids)]);
    return orders.map((order) => ({
      order,
      items: items.filter((i) => i.orderId === order.id),
      refunds: refunds.filter((r) => r.orderId === order.id),
    }));
  }

  private toView(record: OrderRecord): OrderView {
    return toOrderView(record, openAddress(this.cipher, record.order.shippingAddressEncrypted));
  }
}
