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
  PAYLOAD_TOO_LARGE = 41300,
  HEADERS_TOO_LARGE = 43100,
  RATE_LIMITED = 42900,
  INTERNAL = 50000,
  WECHAT_ERROR = 50200,
  DEPENDENCY_UNAVAILABLE = 50300,
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
  [ErrorCode.PAYLOAD_TOO_LARGE]: 'request body too large',
  [ErrorCode.HEADERS_TOO_LARGE]: 'request headers too large',
  [ErrorCode.RATE_LIMITED]: 'too many requests',
  [ErrorCode.INTERNAL]: 'internal error',
  [ErrorCode.WECHAT_ERROR]: 'WeChat answered with an error',
  [ErrorCode.DEPENDENCY_UNAVAILABLE]: 'a dependency is unavailable',
  [ErrorCode.WECHAT_TIMEOUT]: 'WeChat did not answer in time',
};

export function httpStatusOf(code: ErrorCode): number {
  return Math.floor(code / 100);
}
