import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { wechatPayConfig, type WechatPaySlice } from '../config/config.slices.js';
import {
  NotificationRefused,
  WECHAT_PAY_NOTIFICATIONS,
  WECHAT_PAY_SANDBOX,
  type PayNotificationVerifier,
  type RawNotification,
  type WechatPaySandbox,
} from '../payments/wechat-pay-client.port.js';
import { OrderMetrics } from './order-metrics.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import type { NotificationOutcome } from './payment-notifications.service.js';
import { refundEndOf } from './refund-rules.js';
import { RefundSettlement } from './refund-settlement.service.js';

const REFUND_EVENTS = new Set(['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED']);

/**
 * Refund notifications (POST /pay/refund-notify, and the sandbox's, handed over inside its refund
 * create): verified over the exact bytes, then compared with our own refund (its order, mchid,
 * both amounts, an event that says what its resource says) before the refund ends. Answers as
 * PaymentNotificationsService does: applied, duplicate or rejected (all 204), or throws.
 */
@Injectable()
export class RefundNotificationsService implements OnModuleInit {
  private readonly log = new Logger('RefundNotifications');

  constructor(
    private readonly orders: OrderRepository,
    private readonly settlement: RefundSettlement,
    private readonly audit: AuditService,
    private readonly metrics: OrderMetrics,
    @Inject(WECHAT_PAY_NOTIFICATIONS) private readonly verifier: PayNotificationVerifier,
    @Inject(wechatPayConfig.KEY) private readonly config: WechatPaySlice,
    @Inject(WECHAT_PAY_SANDBOX) private readonly sandbox: WechatPaySandbox | null,
  ) {}

  onModuleInit(): void {
    this.sandbox?.onRefundNotification(async (notification) => {
      await this.handleRefund(notification);
    });
  }

  /**
   * Throws NotificationRefused (400 / 401; a notify_rejected entry without an order is written
   * first) or an AppError 50300 when the database is down. Concurrent deliveries end a refund once.
   */
  async handleRefund(raw: RawNotification): Promise<NotificationOutcome> {
    try {
      const outcome = await this.apply(raw);
      this.metrics.notifications.inc({ kind: 'refund', result: outcome });
      return outcome;
    } catch (error) {
      if (error instanceof NotificationRefused) {
        this.metrics.notifications.inc({ kind: 'refund', result: 'invalid' });
        this.log.warn(`refund notification refused (${error.status}): ${error.message}`);
        await this.audit.record('notify_rejected', { detail: `refund: ${error.status} ${error.message}` });
      } else {
        this.metrics.notifications.inc({ kind: 'refund', result: 'error' });
      }
      throw error;
    }
  }

  private async apply(raw: RawNotification): Promise<NotificationOutcome> {
    const verified = await this.verifier.verify('refund', raw);
    if (verified.kind !== 'refund' || !REFUND_EVENTS.has(verified.eventType)) {
      return this.reject(null, `unexpected event ${verified.eventType.slice(0, 40)}`);
    }
    const r = verified.refund;
    const refund = await this.orders.findRefundByOutRefundNo(r.outRefundNo);
    if (!refund) return this.reject(null, 'unknown out_refund_no');
    const order = await this.orders.findById(refund.orderId);
    if (!order) return this.reject(null, 'the refund has no order');
    if (r.outTradeNo !== order.outTradeNo)
      return this.reject(order, "out_trade_no is not the refund's order");
    if (r.mchid !== this.config.mchid) return this.reject(order, 'mchid is not ours');
    if (r.refund !== refund.amount)
      return this.reject(order, `refund amount ${r.refund} != ${refund.amount}`);
    if (r.total !== order.totalAmount) return this.reject(order, `total ${r.total} != ${order.totalAmount}`);
    const end = refundEndOf(r.status);
    if (!end || verified.eventType !== `REFUND.${r.status}`) {
      return this.reject(order, `refund_status ${r.status.slice(0, 20)} in ${verified.eventType}`);
    }
    const ended = await this.settlement.end(refund.id, {
      end,
      successTime: r.successTime,
      refundId: r.refundId,
      via: 'notification',
    });
    if (ended.outcome === 'conflict') {
      return this.reject(order, `refund ${refund.outRefundNo} already ${ended.refund.status}`);
    }
    return ended.outcome;
  }

  private async reject(order: OrderEntity | null, why: string): Promise<'rejected'> {
    this.log.error(`refund notification not applied${order ? ` to order ${order.id}` : ''}: ${why}`);
    await this.audit.record('notify_rejected', {
      userId: order?.userId ?? null,
      orderId: order?.id ?? null,
      detail: `refund: ${why}`,
    });
    return 'rejected';
  }
}
