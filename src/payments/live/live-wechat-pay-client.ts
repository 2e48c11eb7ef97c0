import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { WechatPayConfig } from '../../config/app-config.js';
import type { PaySigner } from '../crypto/pay-signer.js';
import type { SignatureVerifier } from '../crypto/signature-verifier.js';
import type {
  PayParams,
  PrepayRequest,
  RefundOutcome,
  RefundRequest,
  Transaction,
  WechatPayClient,
} from '../wechat-pay-client.port.js';
import { refundFrom, transactionFrom } from '../wechat-pay-wire.js';
import type { PayApi, VerifiedAnswer, WechatPayHttp } from './wechat-pay-http.js';

/** WeChat Pay API v3 over HTTP (docs/api.md, "WeChat Pay calls"). */
export class LiveWechatPayClient implements WechatPayClient {
  readonly mode = 'live' as const;

  constructor(
    private readonly http: WechatPayHttp,
    private readonly verifier: SignatureVerifier,
    private readonly paySigner: PaySigner,
    private readonly config: Pick<WechatPayConfig, 'appId' | 'mchid' | 'notifyUrl' | 'refundNotifyUrl'>,
  ) {}

  async prepay(request: PrepayRequest): Promise<{ prepayId: string }> {
    const { json } = await this.call('prepay', 'POST', '/v3/pay/transactions/jsapi', {
      appid: this.config.appId,
      mchid: this.config.mchid,
      description: request.description,
      out_trade_no: request.outTradeNo,
      time_expire: request.timeExpire,
      notify_url: this.config.notifyUrl,
      amount: { total: request.totalAmount, currency: 'CNY' },
      payer: { openid: request.payerOpenid },
    });
    const prepayId = json?.prepay_id;
    if (typeof prepayId !== 'string' || !prepayId) throw unusable('prepay', 'prepay_id');
    return { prepayId };
  }

  async queryTransaction(outTradeNo: string): Promise<Transaction | null> {
    const path = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${encodeURIComponent(this.config.mchid)}`;
    const answer = await this.callOrNotFound('query', path, 'ORDER_NOT_EXIST');
    if (!answer) return null;
    const transaction = transactionFrom(answer.json ?? {});
    if (!transaction.tradeState || transaction.outTradeNo !== outTradeNo)
      throw unusable('query', 'trade_state');
    return transaction;
  }

  async closeTransaction(outTradeNo: string): Promise<void> {
    await this.call(
      'close',
      'POST',
      `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`,
      {
        mchid: this.config.mchid,
      },
    );
  }

  async createRefund(request: RefundRequest): Promise<RefundOutcome> {
    const { json } = await this.call('refund', 'POST', '/v3/refund/domestic/refunds', {
      out_trade_no: request.outTradeNo,
      out_refund_no: request.outRefundNo,
      reason: request.reason,
      notify_url: this.config.refundNotifyUrl,
      amount: { refund: request.refund, total: request.total, currency: 'CNY' },
    });
    return this.refundOf('refund', json, request.outRefundNo);
  }

  async queryRefund(outRefundNo: string): Promise<RefundOutcome | null> {
    const path = `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`;
    const answer = await this.callOrNotFound('refund_query', path, 'RESOURCE_NOT_EXISTS');
    return answer ? this.refundOf('refund_query', answer.json, outRefundNo) : null;
  }

  payParams(prepayId: string): PayParams {
    return this.paySigner.payParams(prepayId);
  }

  private call(api: PayApi, method: 'GET' | 'POST', pathAndQuery: string, body?: Record<string, unknown>) {
    return this.http.call({ api, method, pathAndQuery, body }, this.verifier);
  }

  /**
   * A GET whose 404 with `notFoundCode` means "WeChat Pay has no such thing" (null). Like every
   * 4xx it is not verified (WeChat Pay's SDKs verify 2xx answers only, and so does the contract).
   */
  private async callOrNotFound(
    api: PayApi,
    path: string,
    notFoundCode: string,
  ): Promise<VerifiedAnswer | null> {
    try {
      return await this.call(api, 'GET', path);
    } catch (error) {
      if (
        error instanceof AppError &&
        error.code === ErrorCode.WECHAT_PAY_ERROR &&
        error.data?.httpStatus === 404 &&
        error.data?.wechatPayCode === notFoundCode
      ) {
        return null;
      }
      throw error;
    }
  }

  private refundOf(
    api: PayApi,
    json: Record<string, unknown> | undefined,
    outRefundNo: string,
  ): RefundOutcome {
    const refund = refundFrom(json ?? {});
    if (!refund.status || refund.outRefundNo !== outRefundNo) throw unusable(api, 'status');
    return refund;
  }
}

/** A verified answer without what the call needs: not used (and not a refusal: a refund may exist). */
function unusable(api: PayApi, field: string): AppError {
  return new AppError(ErrorCode.WECHAT_PAY_UNVERIFIED, `the ${api} answer has no usable ${field}`);
}
