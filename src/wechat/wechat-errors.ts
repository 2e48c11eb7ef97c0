import { Logger } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/** Errcodes on calls carrying access_token that mean "this token is no longer good". */
export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);
export const BUSY_ERRCODE = -1;

// Faults of the deployment, not of the client: the operator must hear about them.
const CONFIGURATION_ERRCODES: Record<number, string> = {
  40013: 'invalid WECHAT_APP_ID',
  40125: 'invalid WECHAT_APP_SECRET',
  40164: "this server's IP is not on the mini-program's API allow-list",
};

const logger = new Logger('WechatErrors');

/** A WeChat errcode, as the contract wants the client to see it. */
export function wechatError(api: string, errcode: number): AppError {
  switch (errcode) {
    case 40029:
    case 40163:
      return new AppError(ErrorCode.WECHAT_CODE_INVALID);
    case 40226:
      return new AppError(ErrorCode.WECHAT_USER_HIGH_RISK);
    case 45009:
    case 45011:
      // WeChat's quotas are per minute (45011) or per day (45009): never retried blindly.
      return new AppError(ErrorCode.RATE_LIMITED, 'WeChat quota exceeded', { retryAfter: 60 });
  }
  const fault = CONFIGURATION_ERRCODES[errcode];
  if (fault) logger.error(`WeChat ${api} refused the service's credentials (errcode ${errcode}): ${fault}`);
  return new AppError(ErrorCode.WECHAT_ERROR, undefined, { data: { wechatErrcode: errcode } });
}
