import type { RefundOutcome, Transaction } from './wechat-pay-client.port.js';

/**
 * WeChat Pay's JSON (snake_case, as its documentation writes it) read into the port's objects. The
 * readers are lenient on purpose: a notification that verified and decrypted but lacks a field is
 * "not applicable" for the orders module to reject (204), not a malformed request; an answer
 * missing what a call needs is refused by that call (answerProblem).
 */
type Json = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const integer = (value: unknown): number => (Number.isSafeInteger(value) ? (value as number) : Number.NaN);
const object = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};

/** A query answer, or the resource of a TRANSACTION.* notification. */
export function transactionFrom(json: Json): Transaction {
  const amount = object(json.amount);
  return {
    mchid: text(json.mchid) ?? '',
    appid: text(json.appid) ?? '',
    outTradeNo: text(json.out_trade_no) ?? '',
    transactionId: text(json.transaction_id),
    tradeState: text(json.trade_state) ?? '',
    successTime: text(json.success_time),
    total: integer(amount.total),
    currency: text(amount.currency),
  };
}

/** A refund create or query answer (`status`), or the resource of a REFUND.* notification (`refund_status`). */
export function refundFrom(json: Json): RefundOutcome {
  const amount = object(json.amount);
  return {
    mchid: text(json.mchid),
    outTradeNo: text(json.out_trade_no) ?? '',
    outRefundNo: text(json.out_refund_no) ?? '',
    refundId: text(json.refund_id),
    transactionId: text(json.transaction_id),
    status: text(json.status) ?? text(json.refund_status) ?? '',
    successTime: text(json.success_time),
    refund: integer(amount.refund),
    total: integer(amount.total),
  };
}

/** The JSON object of a body, or undefined when it is not one. */
export function parseObject(body: Buffer | string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Json)
      : undefined;
  } catch {
    return undefined;
  }
}
