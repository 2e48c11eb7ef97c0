/**
 * The one catalogue of failure codes (docs/api.md, "Envelope"). The HTTP status is the code's first
 * three digits, so a code can never be sent with the wrong status.
 */
export enum ErrorCode {
  VALIDATION_FAILED = 40000,
  WECHAT_CODE_INVALID = 40001,
  WECHAT_APPID_MISMATCH = 40002,
  UNAUTHENTICATED = 40100,
  ACCESS_TOKEN_EXPIRED = 40101,
  REFRESH_TOKEN_INVALID = 40102,
  REFRESH_TOKEN_REUSED = 40103,
  WECHAT_SESSION_KEY_STALE = 40104,
  ROLE_FORBIDDEN = 40300,
  USER_DISABLED = 40301,
  WECHAT_USER_HIGH_RISK = 40302,
  NOT_FOUND = 40400,
  CONFLICT = 40900,
  IDEMPOTENCY_KEY_REUSED = 40901,
  OUT_OF_STOCK = 40910,
  ORDER_STATE_CONFLICT = 40911,
  PRODUCT_UNAVAILABLE = 40912,
  REFUND_EXCEEDS_REFUNDABLE = 40913,
  PAYLOAD_TOO_LARGE = 41300,
  HEADERS_TOO_LARGE = 43100,
  RATE_LIMITED = 42900,
  INTERNAL = 50000,
  WECHAT_ERROR = 50200,
  WECHAT_PAY_ERROR = 50201,
  WECHAT_PAY_UNVERIFIED = 50202,
  DEPENDENCY_UNAVAILABLE = 50300,
  WECHAT_PAY_OFF = 50301,
  WECHAT_TIMEOUT = 50400,
}

export const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  [ErrorCode.VALIDATION_FAILED]: 'validation failed',
  [ErrorCode.WECHAT_CODE_INVALID]: 'the WeChat code is invalid or already used',
  [ErrorCode.WECHAT_APPID_MISMATCH]: 'the WeChat data belongs to another app',
  [ErrorCode.UNAUTHENTICATED]: 'authentication required',
  [ErrorCode.ACCESS_TOKEN_EXPIRED]: 'access token expired',
  [ErrorCode.REFRESH_TOKEN_INVALID]: 'refresh token invalid, expired or revoked',
  [ErrorCode.REFRESH_TOKEN_REUSED]: 'refresh token reused; the login has been revoked',
  [ErrorCode.WECHAT_SESSION_KEY_STALE]: 'the WeChat session key is stale; call wx.login again',
  [ErrorCode.ROLE_FORBIDDEN]: 'role not allowed',
  [ErrorCode.USER_DISABLED]: 'user disabled',
  [ErrorCode.WECHAT_USER_HIGH_RISK]: 'WeChat flags this user as high-risk',
  [ErrorCode.NOT_FOUND]: 'not found',
  [ErrorCode.CONFLICT]: 'conflict with current state',
  [ErrorCode.IDEMPOTENCY_KEY_REUSED]: 'this Idempotency-Key was used with another request',
  [ErrorCode.OUT_OF_STOCK]: 'not enough stock',
  [ErrorCode.ORDER_STATE_CONFLICT]: 'the order is not in a state that allows this',
  [ErrorCode.PRODUCT_UNAVAILABLE]: 'a product is unknown or not on sale',
  [ErrorCode.REFUND_EXCEEDS_REFUNDABLE]: 'the refund is more than what remains refundable',
  [ErrorCode.PAYLOAD_TOO_LARGE]: 'request body too large',
  [ErrorCode.HEADERS_TOO_LARGE]: 'request headers too large',
  [ErrorCode.RATE_LIMITED]: 'too many requests',
  [ErrorCode.INTERNAL]: 'internal error',
  [ErrorCode.WECHAT_ERROR]: 'WeChat answered with an error',
  [ErrorCode.WECHAT_PAY_ERROR]: 'WeChat Pay answered with an error',
  [ErrorCode.WECHAT_PAY_UNVERIFIED]: 'a WeChat Pay answer failed verification',
  [ErrorCode.DEPENDENCY_UNAVAILABLE]: 'a dependency is unavailable',
  [ErrorCode.WECHAT_PAY_OFF]: 'WeChat Pay is off',
  [ErrorCode.WECHAT_TIMEOUT]: 'WeChat did not answer in time',
};

export function httpStatusOf(code: ErrorCode): number {
  return Math.floor(code / 100);
}
