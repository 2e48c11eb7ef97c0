import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import {
  WECHAT_PAY_CLIENT,
  type PayParams,
  type WechatPayClient,
} from '../payments/wechat-pay-client.port.js';
import { UsersService } from '../users/users.service.js';
import type { OrderItemEntity } from './order-item.entity.js';
import { OrderQueries } from './order-queries.service.js';
import { nextStatus, stateConflict } from './order-state.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { beijingRfc3339 } from './out-trade-no.js';

/** A prepay_id lives 2 h at WeChat Pay; one older than this is not handed out again. */
export const PREPAY_REUSE_MS = 7000 * 1000;
const DESCRIPTION_MAX = 127;

/** The first line's title, plus ` 等N件` for several lines, cut to 127 characters (code points). */
export function prepayDescription(items: Array<Pick<OrderItemEntity, 'title'>>): string {
  const text = items.length > 1 ? `${items[0].title} 等${items.length}件` : (items[0]?.title ?? '');
  return Array.from(text).slice(0, DESCRIPTION_MAX).join('');
}

/** POST /orders/:id/pay: the PayParams of `wx.requestPayment`, with the prepay_id reused while valid. */
@Injectable()
export class OrderPayments {
  private readonly log = new Logger('OrderPayments');

  constructor(
    private readonly orders: OrderRepository,
    private readonly queries: OrderQueries,
    private readonly users: UsersService,
    @Inject(WECHAT_PAY_CLIENT) private readonly pay: WechatPayClient,
  ) {}

  async payParams(userId: string, orderId: string, now = new Date()): Promise<PayParams> {
    const order = await this.queries.owned(userId, orderId);
    // Past expiresAt the order cannot be paid, whatever the poller has settled yet.
    if (now.getTime() >= order.expiresAt.getTime()) throw stateConflict(order.status);
    nextStatus(order.status, 'pay');
    if (
      order.prepayId &&
      order.prepayCreatedAt &&
      now.getTime() - order.prepayCreatedAt.getTime() < PREPAY_REUSE_MS
    ) {
      return this.pay.payParams(order.prepayId);
    }
    const user = await this.users.getVisible(userId);
    if (!user.openid) throw new AppError(ErrorCode.NOT_FOUND, 'no such user');
    const items = await this.orders.findItems([order.id]);

    // Recorded before the request leaves: whatever becomes of it, WeChat Pay may now know the order,
    // so a cancel or expiry from here on closes and queries it there rather than trusting our row.
    // With WeChat Pay off nothing leaves (503): the order stays one that can be cancelled at once.
    if (!order.prepayRequestedAt && this.pay.mode !== 'off') {
      await this.keepIfPending(order, { prepayRequestedAt: now });
    }

    const { prepayId } = await this.pay.prepay({
      description: prepayDescription(items),
      outTradeNo: order.outTradeNo,
      timeExpire: beijingRfc3339(order.expiresAt),
      totalAmount: order.totalAmount,
      payerOpenid: user.openid,
    });
    try {
      await this.keepIfPending(order, { prepayId, prepayCreatedAt: new Date() });
    } catch (error) {
      // Cancelled or expired while WeChat Pay made the prepay: close it there so nobody pays an
      // order that is no longer for sale. The close is best effort; the 409 stands either way.
      await this.pay.closeTransaction(order.outTradeNo).catch((closeError: unknown) => {
        this.log.warn(`close after a late prepay of order ${order.id} failed: ${String(closeError)}`);
      });
      throw error;
    }
    return this.pay.payParams(prepayId);
  }

  /** Writes `patch` while the order is still pending_payment; 409 / 40911 with its status otherwise. */
  private async keepIfPending(order: OrderEntity, patch: Partial<OrderEntity>): Promise<void> {
    if (await this.orders.updateIfStatus(order.id, 'pending_payment', patch)) return;
    const now = await this.orders.findById(order.id);
    throw stateConflict(now?.status ?? order.status);
  }
}
