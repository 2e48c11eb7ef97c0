import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import {
  WECHAT_PAY_CLIENT,
  type RefundOutcome,
  type WechatPayClient,
} from '../payments/wechat-pay-client.port.js';
import { OrderQueries } from './order-queries.service.js';
import { OrderTransitions } from './order-transitions.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import { newMerchantNo } from './out-trade-no.js';
import type { RefundEntity } from './refund.entity.js';
import { planRefund, refundEndOf } from './refund-rules.js';
import { RefundSettlement } from './refund-settlement.service.js';

/** A refund nobody reported on is first asked about this long after it was requested. */
export const FIRST_REFUND_QUERY_MS = 60_000;
/** Drawing an outRefundNo that is taken (odds of 1e-15) is tried again this many times. */
const OUT_REFUND_NO_ATTEMPTS = 3;

export interface RefundRequestInput {
  /** Fen; all that remains refundable when absent. */
  amount?: number;
  reason: string;
}

/**
 * POST /admin/orders/:id/refund and what follows it. The refund is recorded `processing` first, in
 * one transaction with the order's status (under the order's lock, so concurrent refunds never
 * promise more than remains), and only then sent to WeChat Pay, outside any transaction. Its
 * outcome comes from that answer, a REFUND.* notification or the query (RefundSettlement ends it
 * once, whichever is first).
 */
@Injectable()
export class OrderRefunds {
  private readonly log = new Logger('OrderRefunds');

  constructor(
    private readonly orders: OrderRepository,
    private readonly queries: OrderQueries,
    private readonly transitions: OrderTransitions,
    private readonly settlement: RefundSettlement,
    private readonly uow: UnitOfWork,
    @Inject(WECHAT_PAY_CLIENT) private readonly pay: WechatPayClient,
  ) {}

  /**
   * The order as it is once WeChat Pay answered. Throws 40911 (status), 40913 (amount), and
   * WeChat Pay's failures: 50201 (refused: the refund is `failed` now), 50202 / 50400 (it stays
   * `processing` until a notification or the query tells), 50301 (off: nothing is recorded).
   */
  async request(
    adminId: string,
    orderId: string,
    input: RefundRequestInput,
    meta?: RequestMeta,
  ): Promise<OrderEntity> {
    await this.queries.admin(orderId);
    if (this.pay.mode === 'off') throw new AppError(ErrorCode.WECHAT_PAY_OFF);
    const { order, refund } = await this.uow.run(async (tx) => {
      const order = await this.orders.findForUpdate(orderId, tx);
      if (!order) throw new AppError(ErrorCode.NOT_FOUND, 'no such order');
      const plan = planRefund(order, await this.orders.findRefunds([orderId], tx), input.amount);
      const now = new Date();
      const refund: RefundEntity = {
        id: randomUUID(),
        orderId,
        outRefundNo: '',
        amount: plan.amount,
        reason: input.reason,
        status: 'processing',
        refundId: null,
        createdAt: now,
        completedAt: null,
        nextQueryAt: new Date(now.getTime() + FIRST_REFUND_QUERY_MS),
      };
      await this.insert(refund, now, tx);
      await this.transitions.applyIn(tx, orderId, {
        action: plan.action,
        actorId: adminId,
        meta,
        detail: `refund ${refund.outRefundNo}, ${plan.amount} fen`,
      });
      return { order, refund };
    });
    await this.submit(order, refund);
    return this.queries.admin(orderId);
  }

  /**
   * The refund poller's question about a refund still processing. One WeChat Pay has never heard
   * of (the create request was lost on the way) is sent again: the same out_refund_no with the same
   * amounts is the same refund there, never a second one.
   */
  async check(refundId: string): Promise<void> {
    const refund = await this.orders.findRefundById(refundId);
    if (!refund || refund.status !== 'processing') return;
    const answer = await this.pay.queryRefund(refund.outRefundNo);
    if (answer) return this.record(refund, answer, 'query');
    const order = await this.orders.findById(refund.orderId);
    if (order) await this.submit(order, refund);
  }

  private async insert(refund: RefundEntity, now: Date, tx: Transaction): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      refund.outRefundNo = newMerchantNo(now);
      if ((await this.orders.insertRefund(refund, tx)) === 'inserted') return;
      if (attempt >= OUT_REFUND_NO_ATTEMPTS) throw new Error('no free outRefundNo');
    }
  }

  /** Refund create at WeChat Pay, and what its answer says. */
  private async submit(order: Pick<OrderEntity, 'outTradeNo' | 'totalAmount'>, refund: RefundEntity) {
    let answer: RefundOutcome;
    try {
      answer = await this.pay.createRefund({
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
        reason: refund.reason,
        refund: refund.amount,
        total: order.totalAmount,
      });
    } catch (error) {
      // Refused: WeChat Pay holds no such refund, so its amount is free again. An answer that
      // failed verification or never came proves nothing: the refund stays processing.
      if (error instanceof AppError && error.code === ErrorCode.WECHAT_PAY_ERROR) {
        const code = error.data?.wechatPayCode;
        await this.settlement.end(refund.id, {
          end: 'failed',
          via: typeof code === 'string' ? `refused ${code.slice(0, 32)}` : 'refused',
        });
      }
      throw error;
    }
    await this.record(refund, answer, 'answer');
  }

  /** A verified answer about `refund` (create or query): its outcome, once it has one. */
  private async record(refund: RefundEntity, answer: RefundOutcome, via: string): Promise<void> {
    if (answer.outRefundNo !== refund.outRefundNo || answer.refund !== refund.amount) {
      this.log.error(
        `refund ${refund.id}: the ${via} of WeChat Pay is about ${answer.refund} fen, the refund is ${refund.amount}; left processing`,
      );
      return;
    }
    const end = refundEndOf(answer.status);
    if (!end) return;
    await this.settlement.end(refund.id, {
      end,
      successTime: answer.successTime,
      refundId: answer.refundId,
      via,
    });
  }
}
