/**
 * A WechatPayClient for unit tests of the orders module: WeChat Pay's observable behaviour as the
 * contract states it (close answers nothing whatever the order, only a query tells; a prepaid
 * order is NOTPAY until paid; a closed one CLOSED; a paid one cannot be closed), with failures and
 * states scripted by the test. And a notification verifier that trusts what the test hands it.
 */
import { AppError } from '../../src/common/errors/app-error.js';
import { ErrorCode } from '../../src/common/errors/error-code.js';
import {
  NotificationRefused,
  type NotificationKind,
  type PayNotificationVerifier,
  type PayParams,
  type PrepayRequest,
  type RawNotification,
  type RefundOutcome,
  type RefundRequest,
  type Transaction,
  type VerifiedNotification,
  type WechatPayClient,
  type WechatPayMode,
} from '../../src/payments/wechat-pay-client.port.js';

export const FAKE_MCHID = '1900000109';
export const FAKE_APPID = 'wxfakeapp0000001';

type Api = 'prepay' | 'query' | 'close' | 'refund' | 'refund_query';

export class FakePayClient implements WechatPayClient {
  readonly mode: WechatPayMode = 'live';
  readonly prepays: PrepayRequest[] = [];
  readonly calls: Array<{ api: Api; outTradeNo: string }> = [];
  /** What WeChat Pay knows of each out_trade_no. */
  readonly trades = new Map<string, Transaction>();
  private readonly failures = new Map<Api, AppError>();
  private prepayCount = 0;

  /** The next call of `api` fails with `error` (502 / 50201 by default). */
  failNext(api: Api, error: AppError = refused('SYSTEM_ERROR', 500)): void {
    this.failures.set(api, error);
  }

  /** The user pays (or is paying) at WeChat Pay, without any notification. */
  setState(outTradeNo: string, tradeState: string, extra: Partial<Transaction> = {}): Transaction {
    const known = this.trades.get(outTradeNo);
    const trade: Transaction = {
      mchid: FAKE_MCHID,
      appid: FAKE_APPID,
      outTradeNo,
      total: known?.total ?? 0,
      ...known,
      tradeState,
      ...(tradeState === 'SUCCESS'
        ? { transactionId: `4200000${outTradeNo.slice(-10)}`, successTime: '2026-12-01T15:30:00+08:00' }
        : {}),
      ...extra,
    };
    this.trades.set(outTradeNo, trade);
    return trade;
  }

  private call(api: Api, outTradeNo: string): void {
    this.calls.push({ api, outTradeNo });
    const failure = this.failures.get(api);
    if (failure) {
      this.failures.delete(api);
      throw failure;
    }
  }

  count(api: Api): number {
    return this.calls.filter((c) => c.api === api).length;
  }

  async prepay(request: PrepayRequest): Promise<{ prepayId: string }> {
    this.call('prepay', request.outTradeNo);
    this.prepays.push({ ...request });
    if (!this.trades.has(request.outTradeNo)) {
      this.trades.set(request.outTradeNo, {
        mchid: FAKE_MCHID,
        appid: FAKE_APPID,
        outTradeNo: request.outTradeNo,
        tradeState: 'NOTPAY',
        total: request.totalAmount,
      });
    }
    return { prepayId: `wx_fake_prepay_${++this.prepayCount}` };
  }

  async queryTransaction(outTradeNo: string): Promise<Transaction | null> {
    this.call('query', outTradeNo);
    const trade = this.trades.get(outTradeNo);
    return trade ? { ...trade } : null;
  }

  async closeTransaction(outTradeNo: string): Promise<void> {
    this.call('close', outTradeNo);
    const trade = this.trades.get(outTradeNo);
    if (trade && trade.tradeState === 'NOTPAY') trade.tradeState = 'CLOSED';
  }

  /** What WeChat Pay knows of each out_refund_no (a refund it accepted). */
  readonly refunds = new Map<string, RefundOutcome>();
  readonly refundRequests: RefundRequest[] = [];
  /** The status refund create gives a new refund (WeChat Pay's usual answer is PROCESSING). */
  refundStatus: string = 'PROCESSING';
  /** Runs inside createRefund before it answers (the sandbox's notification does). */
  beforeRefundAnswer: ((outcome: RefundOutcome) => Promise<void>) | undefined;

  async createRefund(request: RefundRequest): Promise<RefundOutcome> {
    this.call('refund', request.outTradeNo);
    this.refundRequests.push({ ...request });
    const known = this.refunds.get(request.outRefundNo);
    if (known) return { ...known };
    const outcome: RefundOutcome = {
      mchid: FAKE_MCHID,
      outTradeNo: request.outTradeNo,
      outRefundNo: request.outRefundNo,
      refundId: `50${request.outRefundNo.slice(-10)}`,
      status: this.refundStatus,
      ...(this.refundStatus === 'SUCCESS' ? { successTime: '2026-12-01T15:31:00+08:00' } : {}),
      refund: request.refund,
      total: request.total,
    };
    this.refunds.set(request.outRefundNo, outcome);
    await this.beforeRefundAnswer?.({ ...outcome });
    return { ...outcome };
  }

  /** A refund's outcome as WeChat Pay decides it later (seen by a query or a notification). */
  settleRefund(outRefundNo: string, status: string, extra: Partial<RefundOutcome> = {}): RefundOutcome {
    const known = this.refunds.get(outRefundNo);
    if (!known) throw new Error(`the fake holds no refund ${outRefundNo}`);
    Object.assign(
      known,
      { status, ...(status === 'SUCCESS' ? { successTime: '2026-12-01T16:00:00+08:00' } : {}) },
      extra,
    );
    return { ...known };
  }

  async queryRefund(outRefundNo: string): Promise<RefundOutcome | null> {
    this.call('refund_query', outRefundNo);
    const known = this.refunds.get(outRefundNo);
    return known ? { ...known } : null;
  }

  payParams(prepayId: string): PayParams {
    return {
      timeStamp: String(Math.floor(Date.now() / 1000)),
      nonceStr: 'n'.repeat(32),
      package: `prepay_id=${prepayId}`,
      signType: 'RSA',
      paySign: 'fake-signature',
    };
  }
}

/** A WeChat Pay refusal as the adapters report it: 502 / 50201. */
export function refused(code: string, httpStatus = 400): AppError {
  return new AppError(ErrorCode.WECHAT_PAY_ERROR, undefined, { data: { wechatPayCode: code, httpStatus } });
}

/**
 * Verifies nothing: the body is the VerifiedNotification itself (JSON), so tests state what a
 * verified notification says. A `x-refuse` header makes it refuse as a bad signature would.
 */
export class TrustingVerifier implements PayNotificationVerifier {
  async verify(_kind: NotificationKind, notification: RawNotification): Promise<VerifiedNotification> {
    if (notification.headers['x-refuse']) throw new NotificationRefused(401, 'bad signature');
    return JSON.parse(notification.body.toString('utf8')) as VerifiedNotification;
  }
}

/** A REFUND.* notification about `refund`, as TrustingVerifier reads it. */
export function refundNotification(
  refund: RefundOutcome,
  eventType = `REFUND.${refund.status}`,
): RawNotification {
  const verified: VerifiedNotification = { kind: 'refund', eventType, id: 'EV-R', refund };
  return { headers: {}, body: Buffer.from(JSON.stringify(verified)) };
}

/** A notification saying `transaction` was paid, as TrustingVerifier reads it. */
export function transactionNotification(
  transaction: Transaction,
  eventType = 'TRANSACTION.SUCCESS',
): RawNotification {
  const verified: VerifiedNotification = { kind: 'transaction', eventType, id: 'EV-1', transaction };
  return { headers: {}, body: Buffer.from(JSON.stringify(verified)) };
}
