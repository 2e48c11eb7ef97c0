import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import {
  WECHAT_PAY_CLIENT,
  type Transaction as PayTransaction,
  type WechatPayClient,
} from '../payments/wechat-pay-client.port.js';
import { nextStatus } from './order-state.js';
import { OrderTransitions } from './order-transitions.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';

export type SettleAction = 'cancel' | 'expire';

export interface SettleContext {
  actorId?: string | null;
  meta?: RequestMeta;
}

export interface Settled {
  order: OrderEntity;
  /** `paid`: WeChat Pay had taken the money, so the order was paid instead of cancelled. */
  outcome: 'cancelled' | 'paid';
}

/** The prepay was requested between our read and the lock: take the WeChat Pay path. */
class PrepayAppeared extends Error {}

/** WeChat Pay's success_time (RFC 3339 with its offset) as a Date; now when absent or unreadable. */
export function successTimeOf(transaction: Pick<PayTransaction, 'successTime'>): Date {
  const at = transaction.successTime ? Date.parse(transaction.successTime) : NaN;
  return Number.isNaN(at) ? new Date() : new Date(at);
}

/**
 * Ends an unpaid order, by the owner's cancel or by expiry (the poller). An order WeChat Pay never
 * heard of is cancelled at once. Otherwise it is closed there and then queried, because close
 * answers 204 whatever the order and only the query tells: CLOSED or unknown → cancelled; SUCCESS →
 * paid (the user paid at the last moment: never cancel a paid order); anything else, or a failed
 * call → unchanged, and the error says why.
 */
@Injectable()
export class OrderSettlement {
  private readonly log = new Logger('OrderSettlement');

  constructor(
    private readonly orders: OrderRepository,
    private readonly transitions: OrderTransitions,
    @Inject(WECHAT_PAY_CLIENT) private readonly pay: WechatPayClient,
  ) {}

  async settle(order: OrderEntity, action: SettleAction, context: SettleContext = {}): Promise<Settled> {
    nextStatus(order.status, action);
    if (!order.prepayRequestedAt && !order.prepayId) {
      try {
        const { order: cancelled } = await this.transitions.apply(order.id, {
          action,
          actorId: context.actorId,
          meta: context.meta,
          precondition: (current) => {
            if (current.prepayRequestedAt || current.prepayId) throw new PrepayAppeared();
          },
        });
        return { order: cancelled, outcome: 'cancelled' };
      } catch (error) {
        if (!(error instanceof PrepayAppeared)) throw error;
      }
    }
    return this.settleAtWechatPay(order, action, context);
  }

  private async settleAtWechatPay(
    order: OrderEntity,
    action: SettleAction,
    context: SettleContext,
  ): Promise<Settled> {
    await this.pay.closeTransaction(order.outTradeNo);
    const transaction = await this.pay.queryTransaction(order.outTradeNo);
    if (transaction === null || transaction.tradeState === 'CLOSED') {
      const { order: cancelled } = await this.transitions.apply(order.id, {
        action,
        actorId: context.actorId,
        meta: context.meta,
        detail: transaction === null ? 'unknown to WeChat Pay' : 'closed at WeChat Pay',
      });
      return { order: cancelled, outcome: 'cancelled' };
    }
    if (transaction.tradeState === 'SUCCESS')
      return { order: await this.markPaid(order, transaction), outcome: 'paid' };
    throw new AppError(ErrorCode.WECHAT_PAY_ERROR, `the payment is ${transaction.tradeState} at WeChat Pay`, {
      data: { wechatPayCode: transaction.tradeState, httpStatus: 200 },
    });
  }

  /** A verified query said SUCCESS: paid, unless the notification got there first (then as it left it). */
  private async markPaid(order: OrderEntity, transaction: PayTransaction): Promise<OrderEntity> {
    if (transaction.total !== order.totalAmount || transaction.outTradeNo !== order.outTradeNo) {
      this.log.error(
        `order ${order.id}: WeChat Pay reports SUCCESS for ${transaction.total} fen, the order is ${order.totalAmount}; left unchanged`,
      );
      throw new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED, 'the WeChat Pay answer does not match the order');
    }
    try {
      const { order: paid } = await this.transitions.apply(order.id, {
        action: 'paid',
        set: { transactionId: transaction.transactionId ?? null, paidAt: successTimeOf(transaction) },
        detail: 'query answered SUCCESS',
      });
      return paid;
    } catch (error) {
      if (!(error instanceof AppError && error.code === ErrorCode.ORDER_STATE_CONFLICT)) throw error;
      const now = await this.orders.findById(order.id);
      if (now && now.status !== 'pending_payment' && now.paidAt) return now;
      throw error;
    }
  }
}
