/**
 * WeChat Pay API v3, faked: a real HTTP server on 127.0.0.1 speaking the documented wire format,
 * written from WeChat Pay's documentation and not from the service's code (fake-wechat-pay-wire.ts).
 * It checks every request's merchant signature (401 SIGN_ERROR otherwise), signs every answer with
 * its WeChat Pay public key or its current platform certificate, serves /v3/certificates encrypted
 * with the APIv3 key, keeps orders and refunds, and lets a test script what WeChat Pay would do.
 *
 *   const pay = await FakeWechatPay.start();           // keys made here, for this test
 *   const env = { ...pay.serviceEnv({ notifyUrl }) };  // WECHAT_PAY_* for the service
 *   pay.pay(outTradeNo);                               // paid, without notifying
 *   await pay.deliver(url, pay.transactionNotification(outTradeNo, { amount: 1 }));
 *   pay.failNext('refund', { status: 500, code: 'SYSTEM_ERROR' });
 *   pay.failNext('query', 'hang');                     // or 'reset', 'bad_signature', …
 *   pay.rotateCertificate();                           // a new serial signs from now on
 *   await pay.close();
 */
import { generateKeyPairSync, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  makePlatformCertificate,
  randomSerial,
  type PlatformCertificate,
} from './fake-wechat-pay-certificates.js';
import {
  beijingTime,
  buildNotification,
  encryptResource,
  merchantSignatureValid,
  nowSeconds,
  parseAuthorization,
  signedHeaders,
  type BuiltNotification,
  type NotificationEvent,
  type WechatPaySigningKey,
} from './fake-wechat-pay-wire.js';

export type PayApi = 'prepay' | 'query' | 'close' | 'refund' | 'refund_query' | 'certificates';

/**
 * What the next call of an api does instead of its normal answer:
 * - `{ status, code }`: that HTTP error with `{"code","message"}` (nothing changes);
 * - `hang`: never answers (the connection stays open); `hang_body`: headers, then nothing;
 * - `reset`: the connection is destroyed before any answer (nothing changes);
 * - `bad_signature`, `unknown_serial`, `stale_timestamp`, `unsigned`: the call is carried out and
 *   its answer is sent with a signature that is wrong, under a serial nobody knows, 400 s old, or
 *   without the Wechatpay-* headers.
 */
export type PayFailure =
  | { status: number; code: string; message?: string }
  | 'hang'
  | 'hang_body'
  | 'reset'
  | 'bad_signature'
  | 'unknown_serial'
  | 'stale_timestamp'
  | 'unsigned';

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND' | 'USERPAYING' | 'PAYERROR' | 'REVOKED';
export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

export interface FakeOrder {
  appid: string;
  mchid: string;
  description: string;
  outTradeNo: string;
  timeExpire?: string;
  notifyUrl: string;
  total: number;
  openid: string;
  prepayId: string;
  tradeState: TradeState;
  transactionId?: string;
  successTime?: string;
  /** The prepay body as received, to compare a repeat with. */
  request: string;
}

export interface FakeRefund {
  outTradeNo: string;
  outRefundNo: string;
  refundId: string;
  reason?: string;
  notifyUrl?: string;
  refund: number;
  total: number;
  status: RefundStatus;
  createTime: string;
  successTime?: string;
  request: string;
}

export interface FakeCall {
  api: PayApi | 'unknown';
  method: string;
  pathAndQuery: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The HTTP status answered, or `hang` / `reset`. */
  outcome: number | 'hang' | 'reset';
}

export interface FakeWechatPayOptions {
  mchid?: string;
  appId?: string;
  /** Which key signs answers: the WeChat Pay public key (its id as serial) or the current certificate. */
  signWith?: 'public_key' | 'certificate';
  /** false: GET /v3/certificates answers 404 (merchants registered with the public key only). */
  certificatesAvailable?: boolean;
  /** The status refund create answers (and keeps) for a new refund. */
  refundStatus?: RefundStatus;
  port?: number;
}

const ROUTES: Array<{ method: string; pattern: RegExp; api: PayApi }> = [
  { method: 'POST', pattern: /^\/v3\/pay\/transactions\/jsapi$/, api: 'prepay' },
  { method: 'GET', pattern: /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)$/, api: 'query' },
  { method: 'POST', pattern: /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)\/close$/, api: 'close' },
  { method: 'POST', pattern: /^\/v3\/refund\/domestic\/refunds$/, api: 'refund' },
  { method: 'GET', pattern: /^\/v3\/refund\/domestic\/refunds\/([^/?]+)$/, api: 'refund_query' },
  { method: 'GET', pattern: /^\/v3\/certificates$/, api: 'certificates' },
];

class PayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request body as parsed JSON, read field by field (each field's type is checked where used). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RequestBody = Record<string, any>;

const digits = (count: number) => Array.from({ length: count }, () => String(randomInt(10))).join('');

export class FakeWechatPay {
  readonly mchid: string;
  readonly appId: string;
  /** The APIv3 key, 32 ASCII characters. */
  readonly apiV3Key = randomBytes(24).toString('base64');
  /** The merchant's API key pair and certificate serial: the service signs with the private key. */
  readonly merchant = { serial: randomSerial(), ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
  /** The WeChat Pay public key and its id. */
  readonly publicKey: WechatPaySigningKey & { publicKey: KeyObject };
  /** The certificates /v3/certificates lists, oldest first; the last one signs. */
  readonly certificates: PlatformCertificate[] = [makePlatformCertificate()];
  signWith: 'public_key' | 'certificate';
  certificatesAvailable: boolean;
  refundStatus: RefundStatus;

  readonly orders = new Map<string, FakeOrder>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly calls: FakeCall[] = [];
  url = '';

  /** Signs the bad signatures: made when one is asked for, not in a handler, where it would outlast a short time limit. */
  private stranger: KeyObject | undefined;
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private readonly failures = new Map<PayApi, PayFailure[]>();
  private waiters: Array<{ api: PayApi; count: number; resolve: (calls: FakeCall[]) => void }> = [];

  private constructor(options: FakeWechatPayOptions) {
    this.mchid = options.mchid ?? '1900000109';
    this.appId = options.appId ?? 'wx1234567890abcdef';
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = { serial: `PUB_KEY_ID_0${digits(28)}`, ...pair };
    this.signWith = options.signWith ?? 'public_key';
    this.certificatesAvailable = options.certificatesAvailable ?? true;
    this.refundStatus = options.refundStatus ?? 'PROCESSING';
  }

  static async start(options: FakeWechatPayOptions = {}): Promise<FakeWechatPay> {
    const fake = new FakeWechatPay(options);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    fake.server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => fake.server.listen(options.port ?? 0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Stops at once: hanging answers are cut. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The service's WECHAT_PAY_* variables for this fake. `keys`: which WeChat Pay keys the service
   * is given: the public key and its id, or none (certificates only); answers are signed as
   * `signWith` says, so a test can give the service one kind and sign with the other.
   */
  serviceEnv(
    options: { notifyUrl?: string; refundNotifyUrl?: string; keys?: 'public_key' | 'certificates' } = {},
  ) {
    const env: Record<string, string> = {
      WECHAT_PAY_MODE: 'live',
      WECHAT_APP_ID: this.appId,
      WECHAT_PAY_MCHID: this.mchid,
      WECHAT_PAY_MERCHANT_SERIAL: this.merchant.serial,
      WECHAT_PAY_PRIVATE_KEY: this.merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      WECHAT_PAY_APIV3_KEY: this.apiV3Key,
      WECHAT_PAY_NOTIFY_URL: options.notifyUrl ?? 'https://shop.example.com/api/v1/pay/notify',
      WECHAT_PAY_REFUND_NOTIFY_URL:
        options.refundNotifyUrl ?? 'https://shop.example.com/api/v1/pay/refund-notify',
      WECHAT_PAY_API_BASE_URL: this.url,
    };
    if ((options.keys ?? 'public_key') === 'public_key') {
      env.WECHAT_PAY_PUBLIC_KEY = this.publicKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      env.WECHAT_PAY_PUBLIC_KEY_ID = this.publicKey.serial;
    }
    return env;
  }

  /** The key answers and notifications are signed with now. */
  get signingKey(): WechatPaySigningKey {
    return this.signWith === 'public_key' ? this.publicKey : this.currentCertificate;
  }

  get currentCertificate(): PlatformCertificate {
    return this.certificates[this.certificates.length - 1];
  }

  /** A new platform certificate, listed beside the old one; it signs from now on (in certificate mode). */
  rotateCertificate(): PlatformCertificate {
    const next = makePlatformCertificate();
    this.certificates.push(next);
    return next;
  }

  /** The next call of `api` fails as told (several queue up, in order). */
  failNext(api: PayApi, failure: PayFailure): void {
    if (failure === 'bad_signature')
      this.stranger ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.failures.set(api, [...(this.failures.get(api) ?? []), failure]);
  }

  /** Resolves once `count` calls of `api` have arrived (at once when they already have). */
  waitForCalls(api: PayApi, count = 1): Promise<FakeCall[]> {
    if (this.callsOf(api).length >= count) return Promise.resolve(this.callsOf(api));
    return new Promise((resolve) => this.waiters.push({ api, count, resolve }));
  }

  /** Calls received of `api` so far. */
  callsOf(api: PayApi): FakeCall[] {
    return this.calls.filter((call) => call.api === api);
  }

  /** The user pays: the order becomes SUCCESS (no notification is sent; see transactionNotification). */
  pay(outTradeNo: string, options: { successTime?: string } = {}): FakeOrder {
    const order = this.orders.get(outTradeNo);
    if (!order) throw new Error(`the fake WeChat Pay has no order ${outTradeNo}`);
    if (order.tradeState !== 'NOTPAY' && order.tradeState !== 'USERPAYING') {
      throw new Error(`order ${outTradeNo} is ${order.tradeState}, it cannot be paid`);
    }
    order.tradeState = 'SUCCESS';
    order.transactionId = `42000${digits(23)}`;
    order.successTime = options.successTime ?? beijingTime(new Date());
    return order;
  }

  /** Sets an order's trade_state as WeChat Pay would report it (USERPAYING, PAYERROR, …). */
  setTradeState(outTradeNo: string, state: TradeState): void {
    const order = this.orders.get(outTradeNo);
    if (!order) throw new Error(`the fake WeChat Pay has no order ${outTradeNo}`);
    order.tradeState = state;
  }

  /** A refund's outcome as WeChat Pay decides it later (see refundNotification). */
  settleRefund(outRefundNo: string, status: RefundStatus): FakeRefund {
    const refund = this.refunds.get(outRefundNo);
    if (!refund) throw new Error(`the fake WeChat Pay has no refund ${outRefundNo}`);
    refund.status = status;
    refund.successTime = status === 'SUCCESS' ? beijingTime(new Date()) : undefined;
    return refund;
  }

  /**
   * A TRANSACTION.SUCCESS for a paid order (or any order, with `overrides`): signed with the
   * current key unless told otherwise. `overrides` changes the decrypted resource (a wrong amount,
   * another mchid…); `signing` lets a test sign with another key or serial, or an old timestamp.
   */
  transactionNotification(
    outTradeNo: string,
    options: {
      overrides?: Record<string, unknown>;
      amount?: number;
      signing?: WechatPaySigningKey;
      timestamp?: number;
      apiV3Key?: string;
      id?: string;
    } = {},
  ): BuiltNotification {
    const order = this.orders.get(outTradeNo);
    const total = options.amount ?? order?.total ?? 1;
    const resource = {
      mchid: this.mchid,
      appid: order?.appid ?? this.appId,
      out_trade_no: outTradeNo,
      transaction_id: order?.transactionId ?? `42000${digits(23)}`,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: order?.successTime ?? beijingTime(new Date()),
      payer: { openid: order?.openid ?? 'oFakeOpenid' },
      amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
      ...options.overrides,
    };
    return buildNotification({
      key: options.signing ?? this.signingKey,
      apiV3Key: options.apiV3Key ?? this.apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      resource,
      id: options.id,
      timestamp: options.timestamp,
    });
  }

  /** A REFUND.* notification for a refund, by its status now (or `status`). */
  refundNotification(
    outRefundNo: string,
    options: {
      status?: Exclude<RefundStatus, 'PROCESSING'>;
      overrides?: Record<string, unknown>;
      signing?: WechatPaySigningKey;
      timestamp?: number;
      id?: string;
    } = {},
  ): BuiltNotification {
    const refund = this.refunds.get(outRefundNo);
    if (!refund) throw new Error(`the fake WeChat Pay has no refund ${outRefundNo}`);
    const status = options.status ?? (refund.status === 'PROCESSING' ? 'SUCCESS' : refund.status);
    const resource = {
      mchid: this.mchid,
      out_trade_no: refund.outTradeNo,
      transaction_id: this.orders.get(refund.outTradeNo)?.transactionId,
      out_refund_no: outRefundNo,
      refund_id: refund.refundId,
      refund_status: status,
      success_time: status === 'SUCCESS' ? (refund.successTime ?? beijingTime(new Date())) : undefined,
      user_received_account: '支付用户零钱',
      amount: {
        total: refund.total,
        refund: refund.refund,
        payer_total: refund.total,
        payer_refund: refund.refund,
      },
      ...options.overrides,
    };
    return buildNotification({
      key: options.signing ?? this.signingKey,
      apiV3Key: this.apiV3Key,
      eventType: `REFUND.${status}` as NotificationEvent,
      resource,
      id: options.id,
      timestamp: options.timestamp,
    });
  }

  /** POSTs a notification as WeChat Pay does; answers the service's status and body. */
  async deliver(url: string, notification: BuiltNotification): Promise<{ status: number; body: string }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...notification.headers, 'content-type': 'application/json', 'user-agent': 'Mozilla/4.0' },
      body: notification.body,
    });
    return { status: response.status, body: await response.text() };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const pathAndQuery = req.url ?? '/';
    const [path] = pathAndQuery.split('?');
    const route = ROUTES.find((candidate) => candidate.method === req.method && candidate.pattern.test(path));
    const call: FakeCall = {
      api: route?.api ?? 'unknown',
      method: req.method ?? 'GET',
      pathAndQuery,
      headers: req.headers,
      body: raw.toString('utf8'),
      outcome: 0,
    };
    this.calls.push(call);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.callsOf(waiter.api).length < waiter.count) return true;
      waiter.resolve(this.callsOf(waiter.api));
      return false;
    });

    const failure = route ? this.failures.get(route.api)?.shift() : undefined;
    if (failure === 'hang') {
      call.outcome = 'hang';
      return;
    }
    if (failure === 'reset') {
      call.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    if (failure === 'hang_body') {
      call.outcome = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"prepay_id":');
      return;
    }

    let status: number;
    let answer: unknown;
    try {
      if (!route) throw new PayError(404, 'NOT_FOUND', '请求的资源不存在');
      this.authenticate(req, pathAndQuery, raw);
      if (failure && typeof failure === 'object') {
        throw new PayError(failure.status, failure.code, failure.message ?? '系统错误');
      }
      const match = route.pattern.exec(path)!;
      const id = match[1] ? decodeURIComponent(match[1]) : '';
      [status, answer] = this.answer(
        route.api,
        id,
        new URLSearchParams(pathAndQuery.split('?')[1] ?? ''),
        raw,
      );
    } catch (error) {
      if (!(error instanceof PayError)) throw error;
      call.outcome = error.status;
      res.writeHead(error.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: error.code, message: error.message }));
      return;
    }

    call.outcome = status;
    const body = answer === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(answer), 'utf8');
    // The certificates answer is signed with a certificate it carries, whatever signs the rest.
    const key = route.api === 'certificates' ? this.currentCertificate : this.signingKey;
    let headers: Record<string, string> = signedHeaders(key, body);
    if (failure === 'bad_signature') {
      headers = signedHeaders({ serial: key.serial, privateKey: this.stranger! }, body);
    } else if (failure === 'unknown_serial') {
      headers = { ...headers, 'wechatpay-serial': randomSerial() };
    } else if (failure === 'stale_timestamp') {
      headers = signedHeaders(key, body, { timestamp: nowSeconds() - 400 });
    } else if (failure === 'unsigned') {
      headers = {};
    }
    res.writeHead(status, { ...headers, ...(body.length ? { 'content-type': 'application/json' } : {}) });
    res.end(body);
  }

  /** The merchant's Authorization: its mchid, its certificate serial, a fresh timestamp, a valid signature. */
  private authenticate(req: IncomingMessage, pathAndQuery: string, body: Buffer): void {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) throw new PayError(401, 'SIGN_ERROR', 'Authorization 头缺失或格式错误');
    if (auth.mchid !== this.mchid) throw new PayError(401, 'SIGN_ERROR', '商户号与签名不符');
    if (auth.serial !== this.merchant.serial) throw new PayError(401, 'SIGN_ERROR', '商户证书序列号有误');
    if (Math.abs(nowSeconds() - Number(auth.timestamp)) > 300) {
      throw new PayError(401, 'SIGN_ERROR', '签名时间戳已过期');
    }
    if (!merchantSignatureValid(this.merchant.publicKey, auth, req.method ?? '', pathAndQuery, body)) {
      throw new PayError(401, 'SIGN_ERROR', '签名错误');
    }
  }

  private answer(api: PayApi, id: string, query: URLSearchParams, raw: Buffer): [number, unknown] {
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as RequestBody) : {};
    switch (api) {
      case 'prepay':
        return [200, this.prepay(body, raw.toString('utf8'))];
      case 'query': {
        if (query.get('mchid') !== this.mchid) throw new PayError(400, 'PARAM_ERROR', 'mchid 参数错误');
        const order = this.orders.get(id);
        if (!order) throw new PayError(404, 'ORDER_NOT_EXIST', '订单不存在');
        return [200, this.transactionOf(order)];
      }
      case 'close': {
        if (body.mchid !== this.mchid) throw new PayError(400, 'PARAM_ERROR', 'mchid 参数错误');
        const order = this.orders.get(id);
        if (order && (order.tradeState === 'NOTPAY' || order.tradeState === 'USERPAYING'))
          order.tradeState = 'CLOSED';
        return [204, undefined];
      }
      case 'refund':
        return [200, this.refund(body, raw.toString('utf8'))];
      case 'refund_query': {
        const refund = this.refunds.get(id);
        if (!refund) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
        return [200, this.refundOf(refund)];
      }
      case 'certificates':
        if (!this.certificatesAvailable) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书');
        return [
          200,
          {
            data: this.certificates.map((certificate) => ({
              serial_no: certificate.serial,
              effective_time: beijingTime(certificate.notBefore),
              expire_time: beijingTime(certificate.notAfter),
              encrypt_certificate: encryptResource(this.apiV3Key, certificate.pem, 'certificate'),
            })),
          },
        ];
    }
  }

  private prepay(body: RequestBody, raw: string): unknown {
    if (body.mchid !== this.mchid) throw new PayError(400, 'PARAM_ERROR', 'mchid 与请求签名不符');
    if (body.appid !== this.appId) throw new PayError(400, 'APPID_MCHID_NOT_MATCH', 'appid 和 mch_id 不匹配');
    const description = body.description;
    if (typeof description !== 'string' || description.length < 1 || description.length > 127) {
      throw new PayError(400, 'PARAM_ERROR', 'description 长度有误');
    }
    const outTradeNo = body.out_trade_no;
    if (typeof outTradeNo !== 'string' || !/^[0-9A-Za-z_\-|*]{6,32}$/.test(outTradeNo)) {
      throw new PayError(400, 'PARAM_ERROR', 'out_trade_no 格式有误');
    }
    const notifyUrl = body.notify_url;
    if (
      typeof notifyUrl !== 'string' ||
      notifyUrl.length > 255 ||
      notifyUrl.includes('?') ||
      !/^https?:\/\//.test(notifyUrl)
    ) {
      throw new PayError(400, 'PARAM_ERROR', 'notify_url 格式有误');
    }
    if (body.time_expire !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/.test(body.time_expire)) {
      throw new PayError(400, 'PARAM_ERROR', 'time_expire 格式有误');
    }
    const total = body.amount?.total;
    if (!Number.isSafeInteger(total) || total < 1 || body.amount?.currency !== 'CNY') {
      throw new PayError(400, 'PARAM_ERROR', 'amount 有误');
    }
    const openid = body.payer?.openid;
    if (typeof openid !== 'string' || !openid) throw new PayError(400, 'PARAM_ERROR', 'payer.openid 缺失');
    const known = this.orders.get(outTradeNo);
    if (known) {
      if (known.tradeState === 'SUCCESS' || known.tradeState === 'REFUND')
        throw new PayError(400, 'ORDERPAID', '该订单已支付');
      if (known.tradeState === 'CLOSED') throw new PayError(400, 'ORDER_CLOSED', '订单已关闭');
      if (known.request !== raw) throw new PayError(400, 'OUT_TRADE_NO_USED', '商户订单号重复');
      return { prepay_id: known.prepayId };
    }
    const order: FakeOrder = {
      appid: body.appid,
      mchid: body.mchid,
      description,
      outTradeNo,
      timeExpire: body.time_expire,
      notifyUrl,
      total,
      openid,
      prepayId: `wx${digits(14)}${randomBytes(12).toString('hex')}`,
      tradeState: 'NOTPAY',
      request: raw,
    };
    this.orders.set(outTradeNo, order);
    return { prepay_id: order.prepayId };
  }

  private refund(body: RequestBody, raw: string): unknown {
    const outRefundNo = body.out_refund_no;
    if (typeof outRefundNo !== 'string' || !/^[0-9A-Za-z_\-|*@]{1,64}$/.test(outRefundNo)) {
      throw new PayError(400, 'PARAM_ERROR', 'out_refund_no 格式有误');
    }
    if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 80)) {
      throw new PayError(400, 'PARAM_ERROR', 'reason 过长');
    }
    const known = this.refunds.get(outRefundNo);
    if (known) {
      if (known.request !== raw) throw new PayError(400, 'INVALID_REQUEST', '退款单号重复');
      return this.refundOf(known);
    }
    const order = this.orders.get(body.out_trade_no);
    if (!order) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (order.tradeState !== 'SUCCESS' && order.tradeState !== 'REFUND') {
      throw new PayError(400, 'INVALID_REQUEST', '订单未支付');
    }
    const amount = body.amount ?? {};
    if (amount.total !== order.total || amount.currency !== 'CNY') {
      throw new PayError(400, 'PARAM_ERROR', '订单金额与退款金额不符');
    }
    const refunded = [...this.refunds.values()]
      .filter((refund) => refund.outTradeNo === order.outTradeNo && refund.status !== 'CLOSED')
      .reduce((sum, refund) => sum + refund.refund, 0);
    if (!Number.isSafeInteger(amount.refund) || amount.refund < 1 || refunded + amount.refund > order.total) {
      throw new PayError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    }
    const refund: FakeRefund = {
      outTradeNo: order.outTradeNo,
      outRefundNo,
      refundId: `50${digits(27)}`,
      reason: body.reason,
      notifyUrl: body.notify_url,
      refund: amount.refund,
      total: amount.total,
      status: this.refundStatus,
      createTime: beijingTime(new Date()),
      successTime: this.refundStatus === 'SUCCESS' ? beijingTime(new Date()) : undefined,
      request: raw,
    };
    this.refunds.set(outRefundNo, refund);
    order.tradeState = 'REFUND';
    return this.refundOf(refund);
  }

  private transactionOf(order: FakeOrder): unknown {
    const paid = order.transactionId !== undefined;
    return {
      appid: order.appid,
      mchid: order.mchid,
      out_trade_no: order.outTradeNo,
      ...(paid
        ? { transaction_id: order.transactionId, trade_type: 'JSAPI', success_time: order.successTime }
        : {}),
      trade_state: order.tradeState,
      trade_state_desc:
        { SUCCESS: '支付成功', NOTPAY: '未支付', CLOSED: '已关闭', REFUND: '转入退款' }[
          order.tradeState as string
        ] ?? '',
      payer: { openid: order.openid },
      amount: paid
        ? { total: order.total, payer_total: order.total, currency: 'CNY', payer_currency: 'CNY' }
        : { total: order.total, currency: 'CNY' },
    };
  }

  private refundOf(refund: FakeRefund): unknown {
    return {
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      transaction_id: this.orders.get(refund.outTradeNo)?.transactionId,
      out_trade_no: refund.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      ...(refund.successTime ? { success_time: refund.successTime } : {}),
      create_time: refund.createTime,
      status: refund.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: refund.total,
        refund: refund.refund,
        payer_total: refund.total,
        payer_refund: refund.refund,
        settlement_refund: refund.refund,
        settlement_total: refund.total,
        discount_refund: 0,
        currency: 'CNY',
      },
    };
  }
}
