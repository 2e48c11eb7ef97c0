import { jest } from '@jest/globals';
import { createServer } from 'node:net';
import { verify } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { FakeWechatPay } from '../../../test/support/fake-wechat-pay.js';
import { parseAuthorization } from '../../../test/support/fake-wechat-pay-wire.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { loadConfig } from '../../config/load-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { WechatPayClient } from '../wechat-pay-client.port.js';
import { createWechatPay, type WechatPayRuntime } from '../wechat-pay.factory.js';

/**
 * The live adapter over real HTTP against the fake WeChat Pay (test/support/fake-wechat-pay.ts):
 * signing, verification of every answer, the error mapping and the time limit.
 */
/** Short, for the time-limit tests, yet far above what a local answer takes on a busy machine. */
const TIMEOUT_MS = 800;

let fake: FakeWechatPay;
let runtime: WechatPayRuntime;
let client: WechatPayClient;
let metrics: MetricsService;
/** The service's clock, ahead of the real one by `skew` ms (the 60 s download limit is tested with it). */
let skew = 0;

async function start(options: { keys?: 'public_key' | 'certificates'; baseUrl?: string } = {}) {
  const env = {
    NODE_ENV: 'test',
    WECHAT_MODE: 'sandbox',
    WECHAT_TIMEOUT_MS: String(TIMEOUT_MS),
    ...fake.serviceEnv({ keys: options.keys }),
    ...(options.baseUrl ? { WECHAT_PAY_API_BASE_URL: options.baseUrl } : {}),
  };
  metrics = new MetricsService();
  runtime = await createWechatPay(loadConfig(env).wechatPay, metrics, () => Date.now() + skew);
  client = runtime.client;
}

const prepayRequest = (outTradeNo: string, total = 2590) => ({
  description: '测试商品 等2件',
  outTradeNo,
  timeExpire: '2026-12-01T15:30:00+08:00',
  totalAmount: total,
  payerOpenid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
});

let sequence = 0;
const outTradeNo = () => `2026120115300012300000000${String(++sequence).padStart(7, '0')}`;

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

async function counted(api: string): Promise<Record<string, number>> {
  const { values } = await metrics.wechatPayCalls.get();
  return Object.fromEntries(
    values
      .filter((value) => value.labels.api === api)
      .map((value) => [String(value.labels.status), value.value]),
  );
}

beforeEach(async () => {
  skew = 0;
  fake = await FakeWechatPay.start();
});

afterEach(async () => {
  await runtime?.http?.onApplicationShutdown();
  runtime = undefined as unknown as WechatPayRuntime;
  await fake.close();
});

describe('LiveWechatPayClient against the fake WeChat Pay', () => {
  it('prepays with a signed request carrying the contract fields, and verifies the answer', async () => {
    await start();
    const no = outTradeNo();
    const { prepayId } = await client.prepay(prepayRequest(no));
    expect(prepayId).toBe(fake.orders.get(no)?.prepayId);

    const [call] = fake.callsOf('prepay');
    expect(call.outcome).toBe(200);
    expect(call.headers).toMatchObject({ accept: 'application/json', 'content-type': 'application/json' });
    expect(JSON.parse(call.body)).toEqual({
      appid: fake.appId,
      mchid: fake.mchid,
      description: '测试商品 等2件',
      out_trade_no: no,
      time_expire: '2026-12-01T15:30:00+08:00',
      notify_url: 'https://shop.example.com/api/v1/pay/notify',
      amount: { total: 2590, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    });
    expect(parseAuthorization(call.headers.authorization)).toMatchObject({
      mchid: fake.mchid,
      serial: fake.merchant.serial,
    });
    expect(await counted('prepay')).toEqual({ '200': 1 });
    // The public key verified it: nothing was downloaded.
    expect(fake.callsOf('certificates')).toHaveLength(0);
  });

  it('signs paySign for wx.requestPayment with the merchant key', async () => {
    await start();
    const params = client.payParams('wx201410272009395522657a690389285100');
    const message = `${fake.appId}\n${params.timeStamp}\n${params.nonceStr}\n${params.package}\n`;
    expect(
      verify('sha256', Buffer.from(message), fake.merchant.publicKey, Buffer.from(params.paySign, 'base64')),
    ).toBe(true);
  });

  it('queries, closes and refunds as WeChat Pay answers them', async () => {
    await start();
    const unpaid = outTradeNo();
    const paid = outTradeNo();
    await client.prepay(prepayRequest(unpaid));
    await client.prepay(prepayRequest(paid, 100));

    expect(await client.queryTransaction(unpaid)).toMatchObject({
      outTradeNo: unpaid,
      tradeState: 'NOTPAY',
      total: 2590,
    });
    expect(await client.queryTransaction(outTradeNo())).toBeNull();
    expect(fake.callsOf('query')[0].pathAndQuery).toBe(
      `/v3/pay/transactions/out-trade-no/${unpaid}?mchid=${fake.mchid}`,
    );

    await client.closeTransaction(unpaid);
    expect(JSON.parse(fake.callsOf('close')[0].body)).toEqual({ mchid: fake.mchid });
    expect(await client.queryTransaction(unpaid)).toMatchObject({ tradeState: 'CLOSED' });
    // Close answers 204 for an unknown order too.
    await expect(client.closeTransaction(outTradeNo())).resolves.toBeUndefined();

    const order = fake.pay(paid);
    await client.closeTransaction(paid);
    expect(await client.queryTransaction(paid)).toEqual({
      mchid: fake.mchid,
      appid: fake.appId,
      outTradeNo: paid,
      transactionId: order.transactionId,
      tradeState: 'SUCCESS',
      successTime: order.successTime,
      total: 100,
      currency: 'CNY',
    });

    const refund = await client.createRefund({
      outTradeNo: paid,
      outRefundNo: 'R1',
      reason: '不想要了',
      refund: 60,
      total: 100,
    });
    expect(refund).toMatchObject({
      outTradeNo: paid,
      outRefundNo: 'R1',
      status: 'PROCESSING',
      refund: 60,
      total: 100,
    });
    expect(JSON.parse(fake.callsOf('refund')[0].body)).toEqual({
      out_trade_no: paid,
      out_refund_no: 'R1',
      reason: '不想要了',
      notify_url: 'https://shop.example.com/api/v1/pay/refund-notify',
      amount: { refund: 60, total: 100, currency: 'CNY' },
    });
    fake.settleRefund('R1', 'SUCCESS');
    expect(await client.queryRefund('R1')).toMatchObject({
      status: 'SUCCESS',
      successTime: expect.any(String),
    });
    expect(await client.queryRefund('R2')).toBeNull();
  });

  it('turns a 4xx or 5xx into 502 / 50201 with WeChat Pay code and HTTP status, whatever it says', async () => {
    await start();
    fake.failNext('prepay', { status: 400, code: 'PARAM_ERROR' });
    const refused = await failure(client.prepay(prepayRequest(outTradeNo())));
    expect(refused.code).toBe(ErrorCode.WECHAT_PAY_ERROR);
    expect(refused.data).toEqual({ wechatPayCode: 'PARAM_ERROR', httpStatus: 400 });

    fake.failNext('refund', { status: 500, code: 'SYSTEM_ERROR' });
    const broken = await failure(
      client.createRefund({ outTradeNo: 'X1', outRefundNo: 'R1', reason: 'r', refund: 1, total: 1 }),
    );
    expect(broken.data).toEqual({ wechatPayCode: 'SYSTEM_ERROR', httpStatus: 500 });

    // The fake's own refusal of an unknown order, and a 404 other than "no such order" on a query.
    expect(
      (
        await failure(
          client.createRefund({ outTradeNo: 'X1', outRefundNo: 'R1', reason: 'r', refund: 1, total: 1 }),
        )
      ).data,
    ).toEqual({
      wechatPayCode: 'RESOURCE_NOT_EXISTS',
      httpStatus: 404,
    });
    fake.failNext('query', { status: 404, code: 'NOT_FOUND' });
    expect((await failure(client.queryTransaction(outTradeNo()))).data).toEqual({
      wechatPayCode: 'NOT_FOUND',
      httpStatus: 404,
    });

    expect(await counted('prepay')).toEqual({ '400': 1 });
    expect(await counted('refund')).toEqual({ '500': 1, '404': 1 });
  });

  it('refuses the merchant signature it cannot check: a wrong merchant serial is SIGN_ERROR', async () => {
    const env = {
      NODE_ENV: 'test',
      WECHAT_MODE: 'sandbox',
      ...fake.serviceEnv(),
      WECHAT_PAY_MERCHANT_SERIAL: 'ABCDEF0123456789',
    };
    metrics = new MetricsService();
    runtime = await createWechatPay(loadConfig(env).wechatPay, metrics);
    const refused = await failure(runtime.client.prepay(prepayRequest(outTradeNo())));
    expect(refused.data).toEqual({ wechatPayCode: 'SIGN_ERROR', httpStatus: 401 });
  });

  it.each(['bad_signature', 'unknown_serial', 'stale_timestamp', 'unsigned'] as const)(
    'does not use a 2xx answer that fails verification (%s): 502 / 50202',
    async (kind) => {
      await start();
      const no = outTradeNo();
      fake.failNext('prepay', kind);
      const error = await failure(client.prepay(prepayRequest(no)));
      expect(error.code).toBe(ErrorCode.WECHAT_PAY_UNVERIFIED);
      expect(error.data).toBeNull();
      expect(await counted('prepay')).toEqual({ unverified: 1 });
      // WeChat Pay did make the prepay: asking again works, and is the same order.
      await expect(client.prepay(prepayRequest(no))).resolves.toEqual({
        prepayId: fake.orders.get(no)?.prepayId,
      });
    },
  );

  it('answers 504 / 50400 when WeChat Pay does not answer in WECHAT_TIMEOUT_MS, resets or refuses', async () => {
    await start();
    fake.failNext('query', 'hang');
    let started = Date.now();
    expect((await failure(client.queryTransaction(outTradeNo()))).code).toBe(ErrorCode.WECHAT_TIMEOUT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1000);

    // Headers on time, then a body that never ends: the limit covers the whole answer.
    fake.failNext('prepay', 'hang_body');
    started = Date.now();
    expect((await failure(client.prepay(prepayRequest(outTradeNo())))).code).toBe(ErrorCode.WECHAT_TIMEOUT);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1000);

    fake.failNext('close', 'reset');
    expect((await failure(client.closeTransaction(outTradeNo()))).code).toBe(ErrorCode.WECHAT_TIMEOUT);
    expect(fake.callsOf('close')).toHaveLength(1);

    expect(await counted('query')).toEqual({ timeout: 1 });
    expect(await counted('prepay')).toEqual({ timeout: 1 });
    expect(await counted('close')).toEqual({ timeout: 1 });
  });

  it('answers 504 / 50400 when the connection is refused, and never retries', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    await start({ baseUrl: `http://127.0.0.1:${closedPort}` });
    expect((await failure(client.queryRefund('R1'))).code).toBe(ErrorCode.WECHAT_TIMEOUT);
    expect(await counted('refund_query')).toEqual({ timeout: 1 });
  });

  it('in certificate mode, downloads the certificates at start and on a rotation, at most once per 60 s', async () => {
    fake.signWith = 'certificate';
    await start({ keys: 'certificates' });
    expect(runtime.downloadCertificatesAtStart).toBe(true);
    await runtime.certificates!.refresh();
    expect(fake.callsOf('certificates')).toHaveLength(1);
    expect(await counted('certificates')).toEqual({ '200': 1 });
    // The answer names a serial it holds: no download.
    await client.prepay(prepayRequest(outTradeNo()));
    expect(fake.callsOf('certificates')).toHaveLength(1);

    // A rotation within the minute of the start-up download: the new serial stays unknown.
    fake.rotateCertificate();
    skew = 30_000;
    expect((await failure(client.prepay(prepayRequest(outTradeNo())))).code).toBe(
      ErrorCode.WECHAT_PAY_UNVERIFIED,
    );
    expect(fake.callsOf('certificates')).toHaveLength(1);
    // A minute after it: one download, and the new certificate verifies from then on.
    skew = 60_000;
    await client.prepay(prepayRequest(outTradeNo()));
    await client.prepay(prepayRequest(outTradeNo()));
    expect(fake.callsOf('certificates')).toHaveLength(2);

    // Bogus serials: at most one download a minute, however many.
    skew = 130_000;
    for (let i = 0; i < 5; i++) {
      fake.failNext('prepay', 'unknown_serial');
      expect((await failure(client.prepay(prepayRequest(outTradeNo())))).code).toBe(
        ErrorCode.WECHAT_PAY_UNVERIFIED,
      );
    }
    expect(fake.callsOf('certificates')).toHaveLength(3);
  });

  it('in mixed mode, verifies by serial: the public key by its id, certificates by theirs', async () => {
    fake.signWith = 'certificate';
    await start({ keys: 'public_key' });
    expect(runtime.downloadCertificatesAtStart).toBe(false);
    await client.prepay(prepayRequest(outTradeNo()));
    expect(fake.callsOf('certificates')).toHaveLength(1);
    fake.signWith = 'public_key';
    await client.prepay(prepayRequest(outTradeNo()));
    fake.signWith = 'certificate';
    await client.prepay(prepayRequest(outTradeNo()));
    expect(fake.callsOf('certificates')).toHaveLength(1);
  });

  it('does not use a certificates answer that fails its own verification', async () => {
    fake.signWith = 'certificate';
    await start({ keys: 'certificates' });
    fake.failNext('certificates', 'bad_signature');
    expect((await failure(client.prepay(prepayRequest(outTradeNo())))).code).toBe(
      ErrorCode.WECHAT_PAY_UNVERIFIED,
    );
    expect(await counted('certificates')).toEqual({ unverified: 1 });
  });

  it('with only the public key, a merchant without certificates still verifies every answer', async () => {
    fake.certificatesAvailable = false;
    await start({ keys: 'public_key' });
    await client.prepay(prepayRequest(outTradeNo()));
    fake.failNext('prepay', 'unknown_serial');
    expect((await failure(client.prepay(prepayRequest(outTradeNo())))).code).toBe(
      ErrorCode.WECHAT_PAY_UNVERIFIED,
    );
    expect(await counted('certificates')).toEqual({ '404': 1 });
  });

  it('never logs a key, an Authorization header, a body or a paySign', async () => {
    const lines: string[] = [];
    const spies = (['log', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => {
        lines.push(String(message));
      }),
    );
    try {
      fake.signWith = 'certificate';
      await start({ keys: 'certificates' });
      const no = outTradeNo();
      await client.prepay(prepayRequest(no));
      fake.failNext('prepay', 'bad_signature');
      await failure(client.prepay(prepayRequest(no)));
      fake.failNext('refund', { status: 403, code: 'NOT_ENOUGH', message: '基本账户余额不足' });
      await failure(
        client.createRefund({ outTradeNo: no, outRefundNo: 'R1', reason: 'r', refund: 1, total: 2590 }),
      );
      fake.failNext('query', 'reset');
      await failure(client.queryTransaction(no));
      const paySign = client.payParams('wx1').paySign;
      expect(lines.length).toBeGreaterThanOrEqual(3);
      const logged = lines.join('\n');
      const env = fake.serviceEnv();
      for (const secret of [
        env.WECHAT_PAY_APIV3_KEY,
        env.WECHAT_PAY_PRIVATE_KEY.split('\n')[1],
        'WECHATPAY2-SHA256-RSA2048',
        paySign,
        'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        '基本账户余额不足',
      ]) {
        expect(logged).not.toContain(secret);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
