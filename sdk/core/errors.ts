/**
 * The service's error codes by name. The HTTP status of a failure is always the code's first three
 * digits. Negative codes never come from the service: they are failures on the client's side.
 */
export const ErrorCode = {
  OK: 0,
  VALIDATION_FAILED: 40000,
  WECHAT_CODE_INVALID: 40001,
  WECHAT_DATA_OF_ANOTHER_APP: 40002,
  DATA_FETCHED_BEFORE_LOGIN: 40003,
  URL_NOT_ALLOWED: 40004,
  OAUTH_STATE_INVALID: 40005,
  NO_CONSENT: 40006,
  WECHAT_REFUSED_CONTENT: 40007,
  AUTH_REQUIRED: 40100,
  ACCESS_TOKEN_EXPIRED: 40101,
  REFRESH_TOKEN_INVALID: 40102,
  REFRESH_TOKEN_REUSED: 40103,
  SESSION_KEY_STALE: 40104,
  SIGN_IN_TICKET_INVALID: 40105,
  ROLE_NOT_ALLOWED: 40300,
  USER_DISABLED: 40301,
  USER_FLAGGED: 40302,
  NOT_FOUND: 40400,
  CONFLICT: 40900,
  IDEMPOTENCY_KEY_REUSED: 40901,
  NOT_ENOUGH_STOCK: 40910,
  ORDER_STATE_FORBIDS: 40911,
  PRODUCT_UNAVAILABLE: 40912,
  REFUND_TOO_LARGE: 40913,
  NO_SUBSCRIBE_QUOTA: 40920,
  NO_IDENTITY_IN_APP: 40921,
  NOT_A_FOLLOWER: 40922,
  SERVICE_WINDOW_CLOSED: 40923,
  BODY_TOO_LARGE: 41300,
  TOO_MANY_REQUESTS: 42900,
  HEADERS_TOO_LARGE: 43100,
  INTERNAL_ERROR: 50000,
  WECHAT_ERROR: 50200,
  WECHAT_PAY_ERROR: 50201,
  WECHAT_PAY_UNVERIFIED: 50202,
  DEPENDENCY_UNAVAILABLE: 50300,
  WECHAT_PAY_OFF: 50301,
  WECHAT_TIMEOUT: 50400,
  /** The service could not be reached (no HTTP answer at all). */
  NETWORK: -1,
  /** An HTTP answer that is not the service's envelope (a proxy's error page, say). */
  BAD_RESPONSE: -2,
  /** A WeChat client API (wx.login, the phone button, …) failed; `data.errMsg` says how. */
  WX_API_FAILED: -3,
  /** The user closed the payment sheet. */
  PAY_CANCELLED: -4,
  /** The server did not report the order paid within the time limit (it may still be). */
  PAY_TIMEOUT: -5,
  /** The order left `pending_payment` without being paid (cancelled or expired). */
  PAY_NOT_PAID: -6,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ApiError extends Error {
  declare readonly code: number;
  /** The HTTP status; 0 when the failure happened on the client. */
  declare readonly status: number;
  /** The service's request id, for its logs; '' when no answer came. */
  declare readonly requestId: string;
  declare readonly data: unknown;

  constructor(code: number, status: number, message: string, requestId = '', data: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.data = data;
    // ES2015 output keeps the prototype chain of a subclassed Error only with this.
    Object.setPrototypeOf(this, ApiError.prototype);
  }
}

export function clientError(code: number, message: string, data: unknown = null): ApiError {
  return new ApiError(code, 0, message, '', data);
}
