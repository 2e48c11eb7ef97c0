import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work.js';
import { successTimeOf } from './order-settlement.service.js';
import { OrderTransitions } from './order-transitions.js';
import type { OrderEntity } from './order.entity.js';
import { OrderRepository } from './order.repository.js';
import type { RefundEntity } from './refund.entity.js';
import type { RefundEnd } from './refund-rules.js';

export interface RefundEndInput {
  end: RefundEnd;
  /** WeChat Pay's success_time (RFC 3339); completedAt is the time the outcome is seen without it. */
  successTime?: string;
  /** WeChat Pay's refund_id, when it said. */
  refundId?: string;
  /** Where the outcome came from, for the audit entry (`notification`, `query`, `refused PARAM_ERROR`). */
  via: string;
}

/**
 * `applied`: the refund ended now; `duplicate`: it had already ended the same way (nothing
 * changes, no event); `conflict`: it had ended another way, which stands.
 */
export type RefundEndOutcome = 'applied' | 'duplicate' | 'conflict';

export interface RefundEnded {
  outcome: RefundEndOutcome;
  refund: RefundEntity;
  order: OrderEntity;
}

/**
 * Ends a processing refund, whoever saw the outcome first (the create answer, a notification, the
 * query): in one transaction under the order's lock (which every write to its refunds holds, so
 * they take turns and concurrent reports end it once) the refund gets its status, a success adds
 * its amount to refundedAmount, and the order records it through OrderTransitions: a `refunding`
 * order with no refund processing any more settles (refunded, or back to its status before), any
 * other keeps its status. One refund_succeeded or refund_failed entry.
 */
@Injectable()
export class RefundSettlement {
  constructor(
    private readonly orders: OrderRepository,
    private readonly transitions: OrderTransitions,
    private readonly uow: UnitOfWork,
  ) {}

  async end(refundId: string, input: RefundEndInput): Promise<RefundEnded> {
    const known = await this.orders.findRefundById(refundId);
    if (!known) throw new Error(`no refund ${refundId}`);
    return this.uow.run(async (tx) => {
      // The lock first: reads after it see every refund written by those who held it before.
      const order = await this.orders.findForUpdate(known.orderId, tx);
      const refund = await this.orders.findRefundById(refundId, tx);
      if (!order || !refund) throw new Error(`refund ${refundId} lost its order`);
      if (refund.status !== 'processing') {
        return { outcome: refund.status === input.end ? 'duplicate' : 'conflict', refund, order };
      }
      const patch: Partial<RefundEntity> = {
        status: input.end,
        completedAt: successTimeOf(input),
        nextQueryAt: null,
        refundId: input.refundId ?? refund.refundId,
      };
      if (!(await this.orders.updateRefundIfStatus(refund.id, 'processing', patch, tx))) {
        throw new Error(`refund ${refund.id} changed under its order's lock`);
      }
      const refunds = await this.orders.findRefunds([order.id], tx);
      const stillProcessing = refunds.some((r) => r.id !== refund.id && r.status === 'processing');
      const succeeded = input.end === 'succeeded';
      const { order: after } = await this.transitions.applyIn(tx, order.id, {
        action: order.status === 'refunding' && !stillProcessing ? 'refund_settled' : 'refund_ended',
        refunded: succeeded ? refund.amount : 0,
        event: succeeded ? 'refund_succeeded' : 'refund_failed',
        detail: `refund ${refund.outRefundNo} ${input.end} (${input.via}), ${refund.amount} fen`,
      });
      return { outcome: 'applied', refund: { ...refund, ...patch }, order: after };
    });
  }
}
