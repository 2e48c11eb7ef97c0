import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type {
  PayNotificationVerifier,
  PayParams,
  RefundOutcome,
  Transaction,
  VerifiedNotification,
  WechatPayClient,
} from '../wechat-pay-client.port.js';

const off = () => new AppError(ErrorCode.WECHAT_PAY_OFF);

/**
 * WECHAT_PAY_MODE=off: every call is 503 / 50301. The orders module answers the notification
 * routes 503 itself (it reads `mode`); the verifier refuses as well, should anything still ask it.
 */
export class OffWechatPayClient implements WechatPayClient, PayNotificationVerifier {
  readonly mode = 'off' as const;

  prepay(): Promise<{ prepayId: string }> {
    return Promise.reject(off());
  }

  queryTransaction(): Promise<Transaction | null> {
    return Promise.reject(off());
  }

  closeTransaction(): Promise<void> {
    return Promise.reject(off());
  }

  createRefund(): Promise<RefundOutcome> {
    return Promise.reject(off());
  }

  queryRefund(): Promise<RefundOutcome | null> {
    return Promise.reject(off());
  }

  payParams(): PayParams {
    throw off();
  }

  verify(): Promise<VerifiedNotification> {
    return Promise.reject(off());
  }
}
