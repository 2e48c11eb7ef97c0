import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

export const ORDER_STATUSES = [
  'pending_payment',
  'paid',
  'shipped',
  'completed',
  'cancelled',
  'refunding',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * What can happen to an order. `pay` (asking for PayParams), `refund` of part of what remains and
 * `refund_ended` (one refund's outcome while others may still be processing) change no status but
 * are allowed only from some; the others move the order.
 */
export const ORDER_ACTIONS = [
  'pay',
  'paid',
  'cancel',
  'expire',
  'ship',
  'confirm',
  'refund_partial',
  'refund_full',
  'refund_ended',
  'refund_settled',
] as const;
export type OrderAction = (typeof ORDER_ACTIONS)[number];

/** What `refund_settled` needs to know to pick its target (the only action whose target varies). */
export interface RefundSettlement {
  totalAmount: number;
  refundedAmount: number;
  statusBeforeRefunding: OrderStatus | null;
}

const REFUNDABLE: readonly OrderStatus[] = ['paid', 'shipped', 'completed'];

/** from → action → to; `same` keeps the status, `settle` decides from the refund totals. */
const TABLE: Readonly<Record<OrderAction, Partial<Record<OrderStatus, OrderStatus | 'same' | 'settle'>>>> = {
  pay: { pending_payment: 'same' },
  paid: { pending_payment: 'paid' },
  cancel: { pending_payment: 'cancelled' },
  expire: { pending_payment: 'cancelled' },
  ship: { paid: 'shipped' },
  confirm: { shipped: 'completed' },
  refund_partial: Object.fromEntries(REFUNDABLE.map((s) => [s, 'same'])),
  refund_full: Object.fromEntries(REFUNDABLE.map((s) => [s, 'refunding'])),
  refund_ended: Object.fromEntries([...REFUNDABLE, 'refunding'].map((s) => [s, 'same'])),
  refund_settled: { refunding: 'settle' },
};

/** Whether `action` is allowed from `status`, without throwing. */
export function allows(status: OrderStatus, action: OrderAction): boolean {
  return TABLE[action][status] !== undefined;
}

/**
 * The status after `action`, or 409 / 40911 with the status the order has now. The one reading of
 * the state table: every transition (OrderTransitions) and every guarded action asks it.
 */
export function nextStatus(
  status: OrderStatus,
  action: OrderAction,
  settlement?: RefundSettlement,
): OrderStatus {
  const to = TABLE[action][status];
  if (to === undefined) throw stateConflict(status);
  if (to === 'same') return status;
  if (to === 'settle') {
    if (!settlement) throw new Error('refund_settled needs the refund totals');
    if (settlement.refundedAmount >= settlement.totalAmount) return 'refunded';
    return settlement.statusBeforeRefunding ?? 'paid';
  }
  return to;
}

/** The 40911 of an order in `status`, for checks outside the table (pay after expiresAt). */
export function stateConflict(status: OrderStatus): AppError {
  return new AppError(ErrorCode.ORDER_STATE_CONFLICT, `the order is ${status}`, { data: { status } });
}
