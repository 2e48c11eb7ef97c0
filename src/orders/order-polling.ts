/** How often the orders module's pollers look at the database, and how long they hold and wait. */
export interface OrderPolling {
  /** Overdue pending_payment orders are looked for this often (the contract: at least every 5 s). */
  expiryEveryMs: number;
  /** Refunds due for a query are looked for this often. */
  refundsEveryMs: number;
  /** An instance settling an order or querying a refund holds it this long at most. */
  leaseMs: number;
  /** One that could not be settled or ended is tried again after this (at least every 60 s). */
  retryAfterMs: number;
}

export const ORDER_POLLING = Symbol('ORDER_POLLING');

export const DEFAULT_ORDER_POLLING: OrderPolling = {
  expiryEveryMs: 2_000,
  refundsEveryMs: 5_000,
  leaseMs: 30_000,
  retryAfterMs: 30_000,
};
