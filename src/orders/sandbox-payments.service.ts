import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_SANDBOX, type WechatPaySandbox } from '../payments/wechat-pay-client.port.js';
import { OrderQueries } from './order-queries.service.js';
import { stateConflict } from './order-state.js';
import type { NotificationOutcome } from './payment-notifications.service.js';
import { PaymentNotificationsService } from './payment-notifications.service.js';

/** POST /sandbox/orders/:id/pay: the stand-in pays, and notifies like WeChat Pay would. */
@Injectable()
export class SandboxPayments {
  constructor(
    private readonly queries: OrderQueries,
    private readonly notifications: PaymentNotificationsService,
    @Inject(WECHAT_PAY_SANDBOX) private readonly sandbox: WechatPaySandbox | null,
  ) {}

  /** The owner's order, pending_payment with a prepay (else 409 / 40911), paid at the stand-in. */
  async pay(userId: string, orderId: string): Promise<NotificationOutcome> {
    if (!this.sandbox) throw new Error('the sandbox route is registered in sandbox mode only');
    const order = await this.queries.owned(userId, orderId);
    if (order.status !== 'pending_payment' || !order.prepayId) throw stateConflict(order.status);
    return this.notifications.handleTransaction(this.sandbox.pay(order.outTradeNo));
  }
}
