import { wechatErrcodeOf } from '../wechat/wechat-errors.js';

/** How subscribe messages are attempted (the contract's numbers by default; tests shorten them). */
export interface DeliveryPolicy {
  /** Calls to WeChat at most per message. */
  maxAttempts: number;
  /** The wait after the first failed attempt; it doubles after each (1, 2, 4, 8 s). */
  backoffBaseMs: number;
  /** How often every instance looks for queued messages that no job woke. */
  sweepEveryMs: number;
  /** Messages taken up per sweep. */
  sweepBatch: number;
  /** Extra time a claim holds beyond the WeChat call's own deadline (WECHAT_TIMEOUT_MS). */
  leaseMarginMs: number;
}

export const DELIVERY_POLICY = Symbol('DELIVERY_POLICY');

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  sweepEveryMs: 30_000,
  sweepBatch: 200,
  leaseMarginMs: 10_000,
};

/** WeChat busy (-1) and the per-minute quota (45011): worth another attempt later. */
const TRANSIENT_ERRCODES = new Set([-1, 45011]);
/** The user has no subscription left for this template: WeChat's word on the quota. */
export const NOT_SUBSCRIBED_ERRCODE = 43101;

export type AttemptOutcome =
  | { kind: 'retry'; wechatErrcode: number | null; delayMs: number }
  | { kind: 'failed'; wechatErrcode: number | null; quota: 'cleared' | 'returned' };

/** The wait after failed attempt number `attempt` (1-based): base × 2^(attempt − 1). */
export function backoffMs(attempt: number, policy: Pick<DeliveryPolicy, 'backoffBaseMs'>): number {
  return policy.backoffBaseMs * 2 ** (attempt - 1);
}

/**
 * What follows a failed attempt. Repeated: -1, 45011, and every failure that carries no errcode
 * (timeout, HTTP 5xx, network error, open breaker: WeChat may not have seen the call), until the
 * last attempt. 43101 ends it with the quota cleared; any other errcode ends it at once with the
 * unit given back (WeChat refused this send, not the user's subscription), as does the last
 * attempt's failure. The errcode kept is the last one WeChat answered (null when it answered none).
 */
export function afterFailure(error: unknown, attempt: number, policy: DeliveryPolicy): AttemptOutcome {
  const wechatErrcode = wechatErrcodeOf(error);
  if (wechatErrcode === NOT_SUBSCRIBED_ERRCODE) return { kind: 'failed', wechatErrcode, quota: 'cleared' };
  const transient = wechatErrcode === null || TRANSIENT_ERRCODES.has(wechatErrcode);
  if (transient && attempt < policy.maxAttempts) {
    return { kind: 'retry', wechatErrcode, delayMs: backoffMs(attempt, policy) };
  }
  return { kind: 'failed', wechatErrcode, quota: 'returned' };
}
