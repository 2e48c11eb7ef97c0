import { generateKeyPair, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { WechatPayConfig } from '../../config/app-config.js';
import { AeadAes256Gcm } from '../crypto/aead-aes-256-gcm.js';
import { systemClock, unixSeconds, type Clock } from '../crypto/nonce-and-clock.js';
import { RsaPaySigner } from '../crypto/pay-signer.js';
import { AUTH_SCHEMA, rsaSign } from '../crypto/request-signer.js';
import type {
  PayParams,
  PrepayRequest,
  RawNotification,
  RefundOutcome,
  RefundRequest,
  Transaction,
  WechatPayClient,
  WechatPaySandbox,
} from '../wechat-pay-client.port.js';

const generateRsa = promisify(generateKeyPair);

interface SandboxOrder {
  request: PrepayRequest;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';
  transactionId?: string;
  successTime?: string;
  refunded: number;
}

/** The keys the stand-in plays WeChat Pay with, made at start-up, never written anywhere. */
export interface SandboxKeys {
  merchant: KeyObject;
  platform: { id: string; privateKey: KeyObject; publicKey: KeyObject };
  apiV3Key: Buffer;
}

let processKeys: Promise<SandboxKeys> | undefined;

/**
 * The sandbox keys of this process, made at the first start: apps started together in one process
 * (the tests start many) share them rather than each spending ~200 ms on two RSA keys. Each app
 * keeps its own orders and refunds.
 */
export function sandboxKeys(): Promise<SandboxKeys> {
  processKeys ??= makeSandboxKeys();
  return processKeys;
}

export async function makeSandboxKeys(): Promise<SandboxKeys> {
  const [merchant, platform] = await Promise.all([
    generateRsa('rsa', { modulusLength: 2048 }),
    generateRsa('rsa', { modulusLength: 2048 }),
  ]);
  return {
    merchant: merchant.privateKey,
    platform: { id: `PUB_KEY_ID_SANDBOX${randomDigits(24)}`, ...platform },
    apiV3Key: Buffer.from(randomBytes(24).toString('base64'), 'utf8'),
  };
}

/**
 * WeChat Pay played in the process (WECHAT_PAY_MODE=sandbox, refused in production): nothing
 * leaves it. It keeps its orders and refunds in memory (a restart forgets them, as a fresh merchant
 * account would know none) and answers like WeChat Pay: prepay gives `sbx_…` ids and a real
 * paySign; close makes an unpaid order CLOSED and answers the same for any order; refunds succeed
 * at once. Its notifications are signed with its platform key and encrypted with its APIv3 key,
 * so they pass through the verifier exactly as WeChat Pay's do.
 */
export class SandboxWechatPay implements WechatPayClient, WechatPaySandbox {
  readonly mode = 'sandbox' as const;
  private readonly logger = new Logger('WechatPaySandbox');
  private readonly orders = new Map<string, SandboxOrder>();
  private readonly refunds = new Map<string, { request: RefundRequest; outcome: RefundOutcome }>();
  private readonly paySigner: RsaPaySigner;
  private readonly aead: AeadAes256Gcm;
  private deliverRefund: ((notification: RawNotification) => Promise<void>) | undefined;

  constructor(
    readonly keys: SandboxKeys,
    private readonly config: Pick<WechatPayConfig, 'appId' | 'mchid'>,
    private readonly clock: Clock = systemClock,
  ) {
    this.paySigner = new RsaPaySigner(config.appId, keys.merchant, clock);
    this.aead = new AeadAes256Gcm(keys.apiV3Key);
  }

  async prepay(request: PrepayRequest): Promise<{ prepayId: string }> {
    if (!Number.isSafeInteger(request.totalAmount) || request.totalAmount < 1) {
      throw refused(400, 'PARAM_ERROR');
    }
    if (request.description.length > 127) throw refused(400, 'PARAM_ERROR');
    const known = this.orders.get(request.outTradeNo);
    if (known) {
      if (known.state === 'SUCCESS' || known.state === 'REFUND') throw refused(400, 'ORDERPAID');
      if (known.state === 'CLOSED') throw refused(400, 'ORDER_CLOSED');
      if (JSON.stringify(known.request) !== JSON.stringify(request)) throw refused(400, 'OUT_TRADE_NO_USED');
    } else {
      this.orders.set(request.outTradeNo, { request: { ...request }, state: 'NOTPAY', refunded: 0 });
    }
    return { prepayId: `sbx_${randomBytes(16).toString('hex')}` };
  }

  queryTransaction(outTradeNo: string): Promise<Transaction | null> {
    const order = this.orders.get(outTradeNo);
    return Promise.resolve(order ? this.transactionOf(order) : null);
  }

  closeTransaction(outTradeNo: string): Promise<void> {
    const order = this.orders.get(outTradeNo);
    if (order?.state === 'NOTPAY') order.state = 'CLOSED';
    return Promise.resolve();
  }

  async createRefund(request: RefundRequest): Promise<RefundOutcome> {
    const order = this.orders.get(request.outTradeNo);
    if (!order) throw refused(404, 'RESOURCE_NOT_EXISTS');
    const repeat = this.refunds.get(request.outRefundNo);
    if (repeat) {
      if (JSON.stringify(repeat.request) !== JSON.stringify(request)) throw refused(400, 'INVALID_REQUEST');
      return { ...repeat.outcome };
    }
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') throw refused(400, 'INVALID_REQUEST');
    if (
      request.total !== order.request.totalAmount ||
      !Number.isSafeInteger(request.refund) ||
      request.refund < 1
    ) {
      throw refused(400, 'PARAM_ERROR');
    }
    if (order.refunded + request.refund > order.request.totalAmount) throw refused(400, 'INVALID_REQUEST');
    order.refunded += request.refund;
    order.state = 'REFUND';
    const outcome: RefundOutcome = {
      mchid: this.config.mchid,
      outTradeNo: request.outTradeNo,
      outRefundNo: request.outRefundNo,
      refundId: `50${randomDigits(27)}`,
      transactionId: order.transactionId,
      status: 'SUCCESS',
      successTime: beijingTime(this.clock()),
      refund: request.refund,
      total: request.total,
    };
    this.refunds.set(request.outRefundNo, { request: { ...request }, outcome });
    // The contract's sandbox: the notification reaches the service before the call answers.
    if (this.deliverRefund) {
      try {
        await this.deliverRefund(this.refundNotification(outcome));
      } catch (error) {
        this.logger.warn(`the refund notification was not accepted: ${(error as Error).message}`);
      }
    }
    return { ...outcome };
  }

  queryRefund(outRefundNo: string): Promise<RefundOutcome | null> {
    const refund = this.refunds.get(outRefundNo);
    return Promise.resolve(refund ? { ...refund.outcome } : null);
  }

  payParams(prepayId: string): PayParams {
    return this.paySigner.payParams(prepayId);
  }

  pay(outTradeNo: string): RawNotification {
    const order = this.orders.get(outTradeNo);
    if (!order) {
      throw new AppError(ErrorCode.ORDER_STATE_CONFLICT, 'the sandbox holds no prepay for this order');
    }
    if (order.state === 'CLOSED') throw new AppError(ErrorCode.ORDER_STATE_CONFLICT, 'the order is closed');
    if (order.state === 'NOTPAY') {
      order.state = 'SUCCESS';
      order.transactionId = `42000${randomDigits(23)}`;
      order.successTime = beijingTime(this.clock());
    }
    const transaction = this.transactionOf(order);
    return this.notification('TRANSACTION.SUCCESS', '支付成功', 'transaction', {
      mchid: transaction.mchid,
      appid: transaction.appid,
      out_trade_no: transaction.outTradeNo,
      transaction_id: transaction.transactionId,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: transaction.successTime,
      payer: { openid: order.request.payerOpenid },
      amount: {
        total: transaction.total,
        payer_total: transaction.total,
        currency: 'CNY',
        payer_currency: 'CNY',
      },
    });
  }

  onRefundNotification(deliver: (notification: RawNotification) => Promise<void>): void {
    this.deliverRefund = deliver;
  }

  private transactionOf(order: SandboxOrder): Transaction {
    return {
      mchid: this.config.mchid,
      appid: this.config.appId,
      outTradeNo: order.request.outTradeNo,
      transactionId: order.transactionId,
      tradeState: order.state,
      successTime: order.successTime,
      total: order.request.totalAmount,
      currency: 'CNY',
    };
  }

  private refundNotification(outcome: RefundOutcome): RawNotification {
    return this.notification(`REFUND.${outcome.status}`, '退款成功', 'refund', {
      mchid: outcome.mchid,
      out_trade_no: outcome.outTradeNo,
      transaction_id: outcome.transactionId,
      out_refund_no: outcome.outRefundNo,
      refund_id: outcome.refundId,
      refund_status: outcome.status,
      success_time: outcome.successTime,
      user_received_account: '支付用户零钱',
      amount: {
        total: outcome.total,
        refund: outcome.refund,
        payer_total: outcome.total,
        payer_refund: outcome.refund,
      },
    });
  }

  /** Encrypted with the APIv3 key and signed with the platform key, as WeChat Pay sends them. */
  private notification(
    eventType: string,
    summary: string,
    originalType: string,
    resource: Record<string, unknown>,
  ): RawNotification {
    const body = Buffer.from(
      JSON.stringify({
        id: `EV-${randomBytes(12).toString('hex')}`,
        create_time: beijingTime(this.clock()),
        resource_type: 'encrypt-resource',
        event_type: eventType,
        summary,
        resource: {
          original_type: originalType,
          ...this.aead.encrypt(JSON.stringify(resource), originalType),
        },
      }),
      'utf8',
    );
    const timestamp = String(unixSeconds(this.clock));
    const nonce = randomBytes(16).toString('hex');
    const signed = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, Buffer.from('\n')]);
    return {
      headers: {
        'wechatpay-timestamp': timestamp,
        'wechatpay-nonce': nonce,
        'wechatpay-signature': rsaSign(this.keys.platform.privateKey, signed),
        'wechatpay-serial': this.keys.platform.id,
        'wechatpay-signature-type': AUTH_SCHEMA,
      },
      body,
    };
  }
}

function refused(httpStatus: number, wechatPayCode: string): AppError {
  return new AppError(ErrorCode.WECHAT_PAY_ERROR, 'the WeChat Pay sandbox refused the call', {
    data: { wechatPayCode, httpStatus },
  });
}

function randomDigits(count: number): string {
  let digits = '';
  for (let i = 0; i < count; i++) digits += String(randomInt(10));
  return digits;
}

/** RFC 3339 in Beijing time, as WeChat Pay writes times: 2026-12-01T15:30:00+08:00. */
function beijingTime(epochMs: number): string {
  return `${new Date(epochMs + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}
