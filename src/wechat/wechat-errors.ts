import { Logger } from '@nestjs/common';
import { AppError, type AppErrorOptions } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/** Errcodes on calls carrying access_token that mean "this token is no longer good". */
export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);
export const BUSY_ERRCODE = -1;

/** Which of the service's two WeChat apps a call was made for (the variables named in log lines differ). */
export type WechatAppKind = 'mini-program' | 'official account';

// Faults of the deployment, not of the client: the operator must hear about them.
const CONFIGURATION_ERRCODES: Record<WechatAppKind, Record<number, string>> = {
  'mini-program': {
    40013: 'invalid WECHAT_APP_ID',
    40125: 'invalid WECHAT_APP_SECRET',
    40164: "this server's IP is not on the mini-program's API allow-list",
  },
  'official account': {
    40013: 'invalid WECHAT_OA_APP_ID',
    40125: 'invalid WECHAT_OA_APP_SECRET',
    40164: "this server's IP is not on the official account's API allow-list",
  },
};

/**
 * Errcodes by which WeChat refuses what the official account sent (menu buttons and their urls,
 * template id, page, data): 400 / 40007, WeChat's own errcode and errmsg in `data`.
 */
const CONTENT_REFUSED_ERRCODES = new Set([
  40016, 40017, 40018, 40019, 40020, 40021, 40022, 40023, 40024, 40025, 40026, 40027, 40037, 40054, 40055,
  41030, 47001, 47003,
]);
const NOT_A_FOLLOWER_ERRCODE = 43004;
const WINDOW_CLOSED_ERRCODES = new Set([45015, 45047]);

const logger = new Logger('WechatErrors');

/**
 * An AppError made from an errcode WeChat answered. The envelope shows only the contract's code;
 * the errcode itself stays readable for callers that judge it (the subscribe-message worker tells
 * 45011 from 45009, or 40029 from a timeout, whatever code each maps to).
 */
export class WechatErrcodeError extends AppError {
  constructor(
    readonly wechatErrcode: number,
    code: ErrorCode,
    message?: string,
    options?: AppErrorOptions,
  ) {
    super(code, message, options);
  }
}

/**
 * The errcode behind a failed WeChat call, or null when WeChat gave none (timeout, HTTP 5xx,
 * network error, open breaker).
 */
export function wechatErrcodeOf(error: unknown): number | null {
  if (error instanceof WechatErrcodeError) return error.wechatErrcode;
  const data = error instanceof AppError ? error.data : null;
  return typeof data?.wechatErrcode === 'number' ? data.wechatErrcode : null;
}

/** A WeChat errcode, as the contract wants the client to see it. */
export function wechatError(api: string, errcode: number, app: WechatAppKind = 'mini-program'): AppError {
  switch (errcode) {
    case 40029:
    case 40163:
      return new WechatErrcodeError(errcode, ErrorCode.WECHAT_CODE_INVALID);
    case 40226:
      return new WechatErrcodeError(errcode, ErrorCode.WECHAT_USER_HIGH_RISK);
    case 45009:
    case 45011:
      // WeChat's quotas are per minute (45011) or per day (45009): never retried blindly.
      return new WechatErrcodeError(errcode, ErrorCode.RATE_LIMITED, 'WeChat quota exceeded', {
        retryAfter: 60,
      });
  }
  const fault = CONFIGURATION_ERRCODES[app][errcode];
  if (fault) logger.error(`WeChat ${api} refused the service's credentials (errcode ${errcode}): ${fault}`);
  return new WechatErrcodeError(errcode, ErrorCode.WECHAT_ERROR, undefined, {
    data: { wechatErrcode: errcode },
  });
}

/**
 * An errcode of an official-account call: the content refusals (40007, WeChat's errcode and errmsg
 * in `data`), not a follower (40922), the customer-service window closed (40923), and otherwise as
 * every WeChat call (wechatError).
 */
export function officialError(api: string, errcode: number, errmsg?: unknown): AppError {
  if (CONTENT_REFUSED_ERRCODES.has(errcode)) {
    return new WechatErrcodeError(errcode, ErrorCode.WECHAT_CONTENT_REFUSED, undefined, {
      data: { wechatErrcode: errcode, wechatErrmsg: typeof errmsg === 'string' ? errmsg.slice(0, 512) : '' },
    });
  }
  if (errcode === NOT_A_FOLLOWER_ERRCODE) return new WechatErrcodeError(errcode, ErrorCode.NOT_A_FOLLOWER);
  if (WINDOW_CLOSED_ERRCODES.has(errcode)) {
    return new WechatErrcodeError(errcode, ErrorCode.SERVICE_WINDOW_CLOSED);
  }
  return wechatError(api, errcode, 'official account');
}
