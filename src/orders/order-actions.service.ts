import { Injectable } from '@nestjs/common';
import type { RequestMeta } from '../common/http/request-meta.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderSettlement } from './order-settlement.service.js';
import { stateConflict } from './order-state.js';
import { OrderTransitions } from './order-transitions.js';
import type { OrderEntity } from './order.entity.js';

/** What the owner and admins do to an order after making it: cancel, ship, confirm. */
@Injectable()
export class OrderActions {
  constructor(
    private readonly queries: OrderQueries,
    private readonly settlement: OrderSettlement,
    private readonly transitions: OrderTransitions,
  ) {}

  /** 409 / 40911 `paid` when WeChat Pay had already taken the money (the order is paid now). */
  async cancel(userId: string, orderId: string, meta: RequestMeta): Promise<OrderEntity> {
    const order = await this.queries.owned(userId, orderId);
    const settled = await this.settlement.settle(order, 'cancel', { actorId: userId, meta });
    if (settled.outcome === 'paid') throw stateConflict(settled.order.status);
    return settled.order;
  }

  async confirm(userId: string, orderId: string, meta: RequestMeta): Promise<OrderEntity> {
    await this.queries.owned(userId, orderId);
    return (await this.transitions.apply(orderId, { action: 'confirm', actorId: userId, meta })).order;
  }

  async ship(
    adminId: string,
    orderId: string,
    trackingNo: string | undefined,
    meta: RequestMeta,
  ): Promise<OrderEntity> {
    await this.queries.admin(orderId);
    const { order } = await this.transitions.apply(orderId, {
      action: 'ship',
      set: { trackingNo: trackingNo ?? null },
      actorId: adminId,
      meta,
      detail: trackingNo ? `tracking ${trackingNo}` : undefined,
    });
    return order;
  }
}
