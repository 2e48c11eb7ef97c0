/**
 * What the shop needs from WeChat Pay API v3. Adapters: `live/` (HTTP to WECHAT_PAY_API_BASE_URL,
 * every request signed with the merchant key, every 2xx answer verified before it is used),
 * `sandbox/` (an in-process stand-in with keys made at start-up) and `off` (every call 503 / 50301).
 *
 * Failures are thrown as AppError with the contract's codes, so callers never see WeChat Pay's:
 * 502 / 50201 (WeChat Pay refused: data.wechatPayCode, data.httpStatus), 502 / 50202 (an answer
 * failed verification), 504 / 50400 (no answer in WECHAT_TIMEOUT_MS, refused, reset) and
 * 503 / 50301 (mode off). Amounts are integer fen.
 */
export const WECHAT_PAY_CLIENT = Symbol('WECHAT_PAY_CLIENT');

export type WechatPayMode = 'live' | 'sandbox' | 'off';

export interface PrepayRequest {
  description: string;
  outTradeNo: string;
  /** RFC 3339 in Beijing time, seconds truncated: 2026-12-01T15:30:00+08:00 */
  timeExpire: string;
  totalAmount: number;
  payerOpenid: string;
}

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

/** The verified answer of a query (or the decrypted resource of a TRANSACTION.SUCCESS). */
export interface Transaction {
  mchid: string;
  appid: string;
  outTradeNo: string;
  transactionId?: string;
  tradeState: TradeState | string;
  /** RFC 3339 as WeChat Pay wrote it. */
  successTime?: string;
  /** amount.total in fen (NaN when WeChat Pay's JSON lacks it: never equal to an order's total). */
  total: number;
  /** amount.currency: CNY. */
  currency?: string;
}

export type RefundState = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

export interface RefundRequest {
  outTradeNo: string;
  outRefundNo: string;
  reason: string;
  refund: number;
  total: number;
}

/** The verified answer of refund create / query (or a decrypted REFUND.* resource). */
export interface RefundOutcome {
  mchid?: string;
  outTradeNo: string;
  outRefundNo: string;
  refundId?: string;
  transactionId?: string;
  status: RefundState | string;
  successTime?: string;
  /** amount.refund and amount.total in fen (NaN when missing). */
  refund: number;
  total: number;
}

/** What `wx.requestPayment` takes, and nothing else. */
export interface PayParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface WechatPayClient {
  /** `off`: every method throws 503 / 50301; the notification routes answer 503 themselves. */
  readonly mode: WechatPayMode;
  /** POST /v3/pay/transactions/jsapi → prepay_id */
  prepay(request: PrepayRequest): Promise<{ prepayId: string }>;
  /** GET /v3/pay/transactions/out-trade-no/{no}?mchid= ; null for 404 ORDER_NOT_EXIST. */
  queryTransaction(outTradeNo: string): Promise<Transaction | null>;
  /** POST /v3/pay/transactions/out-trade-no/{no}/close (204 whatever the order; only a query decides). */
  closeTransaction(outTradeNo: string): Promise<void>;
  /** POST /v3/refund/domestic/refunds */
  createRefund(request: RefundRequest): Promise<RefundOutcome>;
  /** GET /v3/refund/domestic/refunds/{out_refund_no}; null for 404 RESOURCE_NOT_EXISTS. */
  queryRefund(outRefundNo: string): Promise<RefundOutcome | null>;
  /** paySign over appId\ntimeStamp\nnonceStr\npackage\n with the merchant key; fresh nonce and time. */
  payParams(prepayId: string): PayParams;
}

/** A notification exactly as it arrived: the headers and the raw body bytes. */
export interface RawNotification {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type NotificationKind = 'transaction' | 'refund';

/** Why a notification was refused before anything was applied (the contract's 401 / 400 rows). */
export class NotificationRefused extends Error {
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationRefused';
  }
}

export type VerifiedNotification =
  | { kind: 'transaction'; eventType: string; id: string; transaction: Transaction }
  | { kind: 'refund'; eventType: string; id: string; refund: RefundOutcome };

export const WECHAT_PAY_NOTIFICATIONS = Symbol('WECHAT_PAY_NOTIFICATIONS');

/**
 * Verifies a notification over its raw bytes (headers present, ±300 s, key by Wechatpay-Serial,
 * SHA256withRSA over `timestamp\nnonce\nbody\n`), then decrypts its resource (AEAD_AES_256_GCM
 * with the APIv3 key). Throws NotificationRefused (401 for headers/time/serial/signature, 400 for
 * a body that is not JSON or a resource that does not decrypt). Comparing the content with our own
 * records is the orders module's business.
 */
export interface PayNotificationVerifier {
  verify(kind: NotificationKind, notification: RawNotification): Promise<VerifiedNotification>;
}

export const WECHAT_PAY_SANDBOX = Symbol('WECHAT_PAY_SANDBOX');

/**
 * Only in sandbox mode (the token is bound to null otherwise). The stand-in signs and encrypts
 * notifications with its own keys; they go through the same verifier as WeChat Pay's.
 */
export interface WechatPaySandbox {
  /**
   * Marks the prepaid order paid in the stand-in and returns the TRANSACTION.SUCCESS it sends (hand
   * it to WECHAT_PAY_NOTIFICATIONS and then to the notification handler, like a delivered one).
   * Paying a paid order again returns the same transaction. Throws AppError 409 / 40911 when the
   * stand-in holds no prepay for the order (it keeps them in memory: a restart forgets them) or
   * has closed it.
   */
  pay(outTradeNo: string): RawNotification;
  /**
   * Where the stand-in delivers REFUND.* notifications: awaited inside createRefund, before it
   * answers, as the contract's sandbox says (so do not hold a database transaction open across
   * createRefund: on SQLite the handler's own transaction would wait for it). A handler that
   * rejects is logged and the refund still answers. The orders module registers it at start-up.
   */
  onRefundNotification(deliver: (notification: RawNotification) => Promise<void>): void;
}
