import { createPublicKey, verify } from 'node:crypto';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { loadConfig } from '../../config/load-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { NotificationRefused, type RawNotification } from '../wechat-pay-client.port.js';
import { createWechatPay, type WechatPayRuntime } from '../wechat-pay.factory.js';
import { SandboxWechatPay } from './sandbox-wechat-pay.js';

let runtime: WechatPayRuntime;
let sandbox: SandboxWechatPay;

beforeAll(async () => {
  runtime = await createWechatPay(loadConfig({ NODE_ENV: 'test' }).wechatPay, new MetricsService());
  sandbox = runtime.sandbox as SandboxWechatPay;
});

let sequence = 0;
const outTradeNo = () => `2026120115300012300000000${String(++sequence).padStart(7, '0')}`;
const prepay = (no: string, total = 500) =>
  runtime.client.prepay({
    description: '沙箱商品',
    outTradeNo: no,
    timeExpire: '2026-12-01T15:30:00+08:00',
    totalAmount: total,
    payerOpenid: 'sbx_openid',
  });

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('the WeChat Pay sandbox', () => {
  it('is bound in sandbox mode, with its controls', () => {
    expect(runtime.client.mode).toBe('sandbox');
    expect(runtime.sandbox).toBeInstanceOf(SandboxWechatPay);
    expect(runtime.http).toBeUndefined();
  });

  it('prepays with an sbx_ id and signs a real paySign with its merchant key', async () => {
    const { prepayId } = await prepay(outTradeNo());
    expect(prepayId).toMatch(/^sbx_[0-9a-f]{32}$/);
    const params = runtime.client.payParams(prepayId);
    const message = `wxsandbox000000000\n${params.timeStamp}\n${params.nonceStr}\nprepay_id=${prepayId}\n`;
    expect(
      verify(
        'sha256',
        Buffer.from(message),
        createPublicKey(sandbox.keys.merchant),
        Buffer.from(params.paySign, 'base64'),
      ),
    ).toBe(true);
  });

  it('pays: a signed, encrypted TRANSACTION.SUCCESS that the service verifier accepts, and the query agrees', async () => {
    const no = outTradeNo();
    await prepay(no, 1234);
    expect(await runtime.client.queryTransaction(no)).toMatchObject({ tradeState: 'NOTPAY' });
    const notification = sandbox.pay(no);
    const verified = await runtime.notifications.verify('transaction', notification);
    expect(verified).toMatchObject({
      kind: 'transaction',
      eventType: 'TRANSACTION.SUCCESS',
      transaction: {
        mchid: '1900000001',
        appid: 'wxsandbox000000000',
        outTradeNo: no,
        tradeState: 'SUCCESS',
        total: 1234,
        transactionId: expect.stringMatching(/^\d{28}$/),
        successTime: expect.stringMatching(/\+08:00$/),
      },
    });
    const transaction = await runtime.client.queryTransaction(no);
    expect(transaction).toMatchObject({
      tradeState: 'SUCCESS',
      transactionId: verified.kind === 'transaction' && verified.transaction.transactionId,
    });
    // Its notifications are held to the same rules as WeChat Pay's.
    const tampered = {
      ...notification,
      body: Buffer.from(notification.body.toString().replace('"id":"EV-', '"id":"EW-')),
    };
    await expect(runtime.notifications.verify('transaction', tampered)).rejects.toEqual(
      expect.any(NotificationRefused),
    );
  });

  it('closes an unpaid order, never a paid one, and answers the same for an unknown one', async () => {
    const unpaid = outTradeNo();
    const paid = outTradeNo();
    await prepay(unpaid);
    await prepay(paid);
    sandbox.pay(paid);
    await runtime.client.closeTransaction(unpaid);
    await runtime.client.closeTransaction(paid);
    await runtime.client.closeTransaction(outTradeNo());
    expect(await runtime.client.queryTransaction(unpaid)).toMatchObject({ tradeState: 'CLOSED' });
    expect(await runtime.client.queryTransaction(paid)).toMatchObject({ tradeState: 'SUCCESS' });
    expect(await runtime.client.queryTransaction(outTradeNo())).toBeNull();
    expect(() => sandbox.pay(unpaid)).toThrow(AppError);
    expect((await failure(prepay(unpaid))).data).toEqual({ wechatPayCode: 'ORDER_CLOSED', httpStatus: 400 });
  });

  it('refunds: REFUND.SUCCESS reaches the registered handler before createRefund answers', async () => {
    const no = outTradeNo();
    await prepay(no, 900);
    sandbox.pay(no);
    const delivered: RawNotification[] = [];
    let answered = false;
    sandbox.onRefundNotification(async (notification) => {
      expect(answered).toBe(false);
      delivered.push(notification);
    });
    const outcome = await runtime.client.createRefund({
      outTradeNo: no,
      outRefundNo: 'SR1',
      reason: '测试',
      refund: 400,
      total: 900,
    });
    answered = true;
    expect(outcome).toMatchObject({ outRefundNo: 'SR1', status: 'SUCCESS', refund: 400, total: 900 });
    expect(delivered).toHaveLength(1);
    expect(await runtime.notifications.verify('refund', delivered[0])).toMatchObject({
      kind: 'refund',
      eventType: 'REFUND.SUCCESS',
      refund: { outTradeNo: no, outRefundNo: 'SR1', status: 'SUCCESS', refund: 400, total: 900 },
    });
    expect(await runtime.client.queryRefund('SR1')).toMatchObject({ status: 'SUCCESS' });
    expect(await runtime.client.queryRefund('SR9')).toBeNull();
    // The same refund again is the same refund; beyond what remains is refused.
    await expect(
      runtime.client.createRefund({
        outTradeNo: no,
        outRefundNo: 'SR1',
        reason: '测试',
        refund: 400,
        total: 900,
      }),
    ).resolves.toMatchObject({ refundId: outcome.refundId });
    expect(delivered).toHaveLength(1);
    const over = await failure(
      runtime.client.createRefund({
        outTradeNo: no,
        outRefundNo: 'SR2',
        reason: '测试',
        refund: 501,
        total: 900,
      }),
    );
    expect(over.code).toBe(ErrorCode.WECHAT_PAY_ERROR);
    // A handler that fails does not keep the refund from answering.
    sandbox.onRefundNotification(() => Promise.reject(new Error('database down')));
    await expect(
      runtime.client.createRefund({
        outTradeNo: no,
        outRefundNo: 'SR3',
        reason: '测试',
        refund: 500,
        total: 900,
      }),
    ).resolves.toMatchObject({ status: 'SUCCESS' });
  });

  it('refuses to refund an unpaid order, and to pay an order it never prepaid', async () => {
    const no = outTradeNo();
    await prepay(no);
    expect(
      (
        await failure(
          runtime.client.createRefund({
            outTradeNo: no,
            outRefundNo: 'SR4',
            reason: 'r',
            refund: 1,
            total: 500,
          }),
        )
      ).code,
    ).toBe(ErrorCode.WECHAT_PAY_ERROR);
    expect(() => sandbox.pay(outTradeNo())).toThrow(
      expect.objectContaining({ code: ErrorCode.ORDER_STATE_CONFLICT }),
    );
  });
});

describe('WECHAT_PAY_MODE=off', () => {
  it('answers every call 503 / 50301, and the verifier refuses', async () => {
    const off = await createWechatPay(
      loadConfig({ NODE_ENV: 'test', WECHAT_PAY_MODE: 'off' }).wechatPay,
      new MetricsService(),
    );
    expect(off.client.mode).toBe('off');
    expect(off.sandbox).toBeNull();
    const calls = [
      off.client.prepay({
        description: 'x',
        outTradeNo: '1',
        timeExpire: '',
        totalAmount: 1,
        payerOpenid: 'o',
      }),
      off.client.queryTransaction('1'),
      off.client.closeTransaction('1'),
      off.client.createRefund({ outTradeNo: '1', outRefundNo: '1', reason: 'r', refund: 1, total: 1 }),
      off.client.queryRefund('1'),
      off.notifications.verify('transaction', { headers: {}, body: Buffer.from('{}') }),
    ];
    for (const call of calls) expect((await failure(call)).code).toBe(ErrorCode.WECHAT_PAY_OFF);
    expect(() => off.client.payParams('x')).toThrow(
      expect.objectContaining({ code: ErrorCode.WECHAT_PAY_OFF }),
    );
  });
});
