import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { nextStatus } from './order-state.js';
import type { OrderEntity } from './order.entity.js';
import type { RefundEntity, RefundStatus } from './refund.entity.js';

/** How a refund ends: WeChat Pay's outcome, or `failed` when it refused the request. */
export type RefundEnd = Exclude<RefundStatus, 'processing'>;

/**
 * What the order can still give back: its total, less what was refunded, less what its processing
 * refunds hold (those may still succeed, so their amounts are spoken for).
 */
export function refundableOf(
  order: Pick<OrderEntity, 'totalAmount' | 'refundedAmount'>,
  refunds: ReadonlyArray<Pick<RefundEntity, 'status' | 'amount'>>,
): number {
  const held = refunds.filter((r) => r.status === 'processing').reduce((sum, r) => sum + r.amount, 0);
  return Math.max(0, order.totalAmount - order.refundedAmount - held);
}

export interface RefundPlan {
  amount: number;
  /** All that remained: the order moves to `refunding`; less: it keeps its status. */
  action: 'refund_full' | 'refund_partial';
}

/**
 * A refund of `requested` (all that remains when absent) on `order` as it is under its lock: 409 /
 * 40911 when its status allows no refund, 409 / 40913 with `data.refundable` when the amount is
 * over what remains (or nothing remains).
 */
export function planRefund(
  order: Pick<OrderEntity, 'status' | 'totalAmount' | 'refundedAmount'>,
  refunds: ReadonlyArray<Pick<RefundEntity, 'status' | 'amount'>>,
  requested: number | undefined,
): RefundPlan {
  nextStatus(order.status, 'refund_partial');
  const refundable = refundableOf(order, refunds);
  const amount = requested ?? refundable;
  if (amount < 1 || amount > refundable) {
    throw new AppError(
      ErrorCode.REFUND_EXCEEDS_REFUNDABLE,
      `the refund is over what remains refundable (${refundable} fen)`,
      { data: { refundable } },
    );
  }
  return { amount, action: amount === refundable ? 'refund_full' : 'refund_partial' };
}

/** WeChat Pay's refund status as how ours ends; undefined while it is PROCESSING (or unknown). */
export function refundEndOf(status: string): Exclude<RefundEnd, 'failed'> | undefined {
  switch (status) {
    case 'SUCCESS':
      return 'succeeded';
    case 'CLOSED':
      return 'closed';
    case 'ABNORMAL':
      return 'abnormal';
    default:
      return undefined;
  }
}
