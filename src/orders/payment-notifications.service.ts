import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { wechatPayConfig, type WechatPaySlice } from '../config/config.slices.js';
import {
  NotificationRefused,
  WECHAT_PAY_NOTIFICATIONS,
  type PayNotificationVerifier,
  type RawNotification,
} from '../payments/wechat-pay-client.port.js';
import { OrderMetrics } from './order-metrics.js';
import { successTimeOf } from './order-settlement.service.js';
import { OrderTransitions } from './order-transitions.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';

/**
 * What became of a verified notification: `applied` (the order is paid now), `duplicate` (that
 * outcome was already applied: nothing changes, no event) or `rejected` (verified but not
 * applicable: nothing changes, one notify_rejected event). All three are answered 204.
 */
export type NotificationOutcome = 'applied' | 'duplicate' | 'rejected';

/**
 * Payment notifications (POST /pay/notify, and the sandbox's stand-in through the same code): a
 * notification is proof only once its signature checks out AND its content matches our own record
 * of the order, so both are checked before anything changes.
 */
@Injectable()
export class PaymentNotificationsService {
  private readonly log = new Logger('PaymentNotifications');

  constructor(
    private readonly orders: OrderRepository,
    private readonly transitions: OrderTransitions,
    private readonly audit: AuditService,
    private readonly metrics: OrderMetrics,
    @Inject(WECHAT_PAY_NOTIFICATIONS) private readonly verifier: PayNotificationVerifier,
    @Inject(wechatPayConfig.KEY) private readonly config: WechatPaySlice,
  ) {}

  /**
   * Verifies `raw` over its exact bytes, then applies `paid` if it matches the order. Throws
   * NotificationRefused (the route's 400 / 401; a notify_rejected entry without an order is written
   * first) or an AppError 50300 when the database is down (the route's 503: WeChat Pay sends it
   * again). Concurrent deliveries of one notification apply it once.
   */
  async handleTransaction(raw: RawNotification): Promise<NotificationOutcome> {
    try {
      const outcome = await this.apply(raw);
      this.metrics.notifications.inc({ kind: 'transaction', result: outcome });
      return outcome;
    } catch (error) {
      if (error instanceof NotificationRefused) {
        this.metrics.notifications.inc({ kind: 'transaction', result: 'invalid' });
        this.log.warn(`payment notification refused (${error.status}): ${error.message}`);
        await this.audit.record('notify_rejected', {
          detail: `transaction: ${error.status} ${error.message}`,
        });
      } else {
        this.metrics.notifications.inc({ kind: 'transaction', result: 'error' });
      }
      throw error;
    }
  }

  private async apply(raw: RawNotification): Promise<NotificationOutcome> {
    const verified = await this.verifier.verify('transaction', raw);
    if (verified.kind !== 'transaction' || verified.eventType !== 'TRANSACTION.SUCCESS') {
      return this.reject(null, `unexpected event ${verified.eventType}`);
    }
    const t = verified.transaction;
    const order = await this.orders.findByOutTradeNo(t.outTradeNo);
    if (!order) return this.reject(null, 'unknown out_trade_no');
    if (t.mchid !== this.config.mchid) return this.reject(order, 'mchid is not ours');
    if (t.appid !== this.config.appId) return this.reject(order, 'appid is not ours');
    if (t.total !== order.totalAmount) return this.reject(order, `amount ${t.total} != ${order.totalAmount}`);
    if (t.tradeState !== 'SUCCESS') return this.reject(order, `trade_state ${t.tradeState}`);
    if (this.alreadyApplied(order, t.transactionId)) return 'duplicate';
    if (order.status !== 'pending_payment') return this.reject(order, `order is ${order.status}`);
    try {
      await this.transitions.apply(order.id, {
        action: 'paid',
        set: { transactionId: t.transactionId ?? null, paidAt: successTimeOf(t) },
        detail: 'notification',
      });
      return 'applied';
    } catch (error) {
      if (!(error instanceof AppError && error.code === ErrorCode.ORDER_STATE_CONFLICT)) throw error;
      // Another delivery (or a cancel's query) got there first.
      const now = await this.orders.findById(order.id);
      if (now && this.alreadyApplied(now, t.transactionId)) return 'duplicate';
      return this.reject(now ?? order, `order is ${now?.status ?? order.status}`);
    }
  }

  private alreadyApplied(order: OrderEntity, transactionId: string | undefined): boolean {
    return order.paidAt !== null && transactionId !== undefined && order.transactionId === transactionId;
  }

  private async reject(order: OrderEntity | null, why: string): Promise<'rejected'> {
    this.log.error(`payment notification not applied${order ? ` to order ${order.id}` : ''}: ${why}`);
    await this.audit.record('notify_rejected', {
      userId: order?.userId ?? null,
      orderId: order?.id ?? null,
      detail: `transaction: ${why}`,
    });
    return 'rejected';
  }
}
