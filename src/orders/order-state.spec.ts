import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import {
  allows,
  nextStatus,
  ORDER_ACTIONS,
  ORDER_STATUSES,
  type OrderAction,
  type OrderStatus,
} from './order-state.js';

/** The contract's table, written out once more by hand: every cell not listed must be refused. */
const ALLOWED: Array<[OrderStatus, OrderAction, OrderStatus]> = [
  ['pending_payment', 'pay', 'pending_payment'],
  ['pending_payment', 'paid', 'paid'],
  ['pending_payment', 'cancel', 'cancelled'],
  ['pending_payment', 'expire', 'cancelled'],
  ['paid', 'ship', 'shipped'],
  ['shipped', 'confirm', 'completed'],
  ['paid', 'refund_partial', 'paid'],
  ['shipped', 'refund_partial', 'shipped'],
  ['completed', 'refund_partial', 'completed'],
  ['paid', 'refund_full', 'refunding'],
  ['shipped', 'refund_full', 'refunding'],
  ['completed', 'refund_full', 'refunding'],
  ['paid', 'refund_ended', 'paid'],
  ['shipped', 'refund_ended', 'shipped'],
  ['completed', 'refund_ended', 'completed'],
  ['refunding', 'refund_ended', 'refunding'],
];

const SETTLEMENT = { totalAmount: 1000, refundedAmount: 400, statusBeforeRefunding: 'shipped' as const };

const cells = ORDER_STATUSES.flatMap((status) => ORDER_ACTIONS.map((action) => [status, action] as const));

describe('order state table', () => {
  it.each(cells)('%s + %s', (status, action) => {
    const allowed = ALLOWED.find(([from, a]) => from === status && a === action);
    if (action === 'refund_settled' && status === 'refunding') {
      expect(nextStatus(status, action, SETTLEMENT)).toBe('shipped');
      expect(allows(status, action)).toBe(true);
      return;
    }
    if (allowed) {
      expect(nextStatus(status, action)).toBe(allowed[2]);
      expect(allows(status, action)).toBe(true);
      return;
    }
    expect(allows(status, action)).toBe(false);
    let thrown: unknown;
    try {
      nextStatus(status, action, SETTLEMENT);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe(ErrorCode.ORDER_STATE_CONFLICT);
    expect((thrown as AppError).data).toEqual({ status });
  });

  it('refunding ends refunded when everything was refunded', () => {
    expect(nextStatus('refunding', 'refund_settled', { ...SETTLEMENT, refundedAmount: 1000 })).toBe(
      'refunded',
    );
  });

  it('refunding ends in the status before it when refunds fell short', () => {
    for (const before of ['paid', 'shipped', 'completed'] as const) {
      expect(
        nextStatus('refunding', 'refund_settled', {
          ...SETTLEMENT,
          refundedAmount: 0,
          statusBeforeRefunding: before,
        }),
      ).toBe(before);
    }
  });

  it('covers every status and action of the contract', () => {
    expect(ORDER_STATUSES).toEqual([
      'pending_payment',
      'paid',
      'shipped',
      'completed',
      'cancelled',
      'refunding',
      'refunded',
    ]);
    expect(cells).toHaveLength(ORDER_STATUSES.length * ORDER_ACTIONS.length);
  });
});
