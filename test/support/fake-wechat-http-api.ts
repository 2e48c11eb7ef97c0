/**
 * WeChat's HTTP API, faked: a real HTTP server on 127.0.0.1 speaking the wire format of WeChat's
 * documentation (every error is HTTP 200 `{errcode, errmsg}`), with its identities, codes and
 * access tokens (fake-wechat-tokens.ts) and controls to script failures. The WeChat of the e2e and
 * cluster suites and of the benchmark (fake-wechat-server.ts runs it as a process of its own).
 *
 *   const fake = await FakeWechat.start({ appId, appSecret });
 *   env.WECHAT_API_BASE_URL = fake.url;
 *   fake.failNext('jscode2session', 45011);      // the next call answers errcode 45011
 *   fake.delayNext('getuserphonenumber', 3000);  // the next call answers after 3 s
 *   await fake.close();
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeWechatTokens } from './fake-wechat-tokens.js';
import { sessionKeySignature } from './wechat-crypto-helpers.js';

export type WechatApi =
  'jscode2session' | 'stable_token' | 'getuserphonenumber' | 'subscribe_send' | 'checksession';

export const WECHAT_APIS: readonly WechatApi[] = [
  'jscode2session',
  'stable_token',
  'getuserphonenumber',
  'subscribe_send',
  'checksession',
];

const ROUTES: Record<string, { method: string; api: WechatApi }> = {
  '/sns/jscode2session': { method: 'GET', api: 'jscode2session' },
  '/cgi-bin/stable_token': { method: 'POST', api: 'stable_token' },
  '/wxa/business/getuserphonenumber': { method: 'POST', api: 'getuserphonenumber' },
  '/cgi-bin/message/subscribe/send': { method: 'POST', api: 'subscribe_send' },
  '/wxa/checksession': { method: 'GET', api: 'checksession' },
};

export const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40037: 'invalid template_id',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40226: 'high risk user',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  42001: 'access_token expired',
  43101: 'user refuse to accept the msg',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit, mustslower retry next minute',
  47001: 'data format error',
  47003: 'argument invalid! data.thing1.value invalid',
  87009: 'invalid signature',
};

export interface FakeWechatOptions {
  appId?: string;
  appSecret?: string;
  /** Lifetime of a stable access token, seconds (WeChat: 7200). */
  tokenLifetimeSec?: number;
  /** Port on 127.0.0.1 (default: one the OS picks). */
  port?: number;
  /**
   * Benchmark mode: wx.login and phone codes may be used again, and an unregistered phone code
   * gives a number derived from it. A code `user-<n>-<anything>` logs in as openid `o_bench_<n>`,
   * so a load test can log the same users in again and again.
   */
  reusableCodes?: boolean;
  /** false stops recording requests (a long load test would grow the log without end). */
  keepLog?: boolean;
}

export interface WechatIdentity {
  openid: string;
  /** base64 of 16 bytes; defaults to the openid's current session key (made on first use). */
  session_key?: string;
  unionid?: string;
}

export interface PhoneRegistration {
  /** With country code outside China, e.g. "+1 2025550123"; defaults to purePhoneNumber. */
  phoneNumber?: string;
  purePhoneNumber: string;
  countryCode?: string;
  /** watermark.appid; defaults to the fake's app id. `null` leaves the watermark out entirely. */
  appid?: string | null;
}

export interface ReceivedRequest {
  api: WechatApi | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (POST), or the raw text when it did not parse. */
  body: unknown;
  headers: IncomingMessage['headers'];
  at: number;
  /** What the fake answered: HTTP status and errcode (0 for success; undefined for HTTP 500 / drops). */
  status?: number;
  errcode?: number;
}

type Fault =
  | { kind: 'errcode'; errcode: number; errmsg?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'http500' }
  | { kind: 'drop' };

export class FakeWechat {
  readonly appId: string;
  readonly appSecret: string;
  /** Every request received, in order (reset() clears it). */
  readonly log: ReceivedRequest[] = [];

  private server!: Server;
  private baseUrl = '';
  private readonly tokens: FakeWechatTokens;
  private readonly faults = new Map<WechatApi, Fault[]>();
  private readonly counts = new Map<WechatApi, number>();
  private readonly codes = new Map<string, WechatIdentity>();
  private readonly codeErrors = new Map<string, number>();
  private readonly usedCodes = new Set<string>();
  private readonly sessionKeys = new Map<string, string>();
  private readonly phones = new Map<string, PhoneRegistration>();
  private readonly usedPhoneCodes = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly events = new EventEmitter();
  private codeSeq = 0;
  private readonly reusableCodes: boolean;
  private readonly keepLog: boolean;
  private readonly port: number;

  private constructor(options: FakeWechatOptions) {
    this.appId = options.appId ?? 'wx1234567890abcdef';
    this.appSecret = options.appSecret ?? 'fake-wechat-app-secret-0123456789';
    this.tokens = new FakeWechatTokens(options.tokenLifetimeSec);
    this.reusableCodes = options.reusableCodes ?? false;
    this.keepLog = options.keepLog ?? true;
    this.port = options.port ?? 0;
  }

  static async start(options: FakeWechatOptions = {}): Promise<FakeWechat> {
    const fake = new FakeWechat(options);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    // Node's fetch (undici) subtracts a 1 s margin from the server's `Keep-Alive: timeout=N` hint:
    // with N = 1 it reused no connection at all, and a load test measured TCP handshakes.
    fake.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(fake.port, '127.0.0.1', () => resolve());
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.baseUrl = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** Base URL for WECHAT_API_BASE_URL. */
  get url(): string {
    return this.baseUrl;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- identities and codes

  /** The openid an unregistered wx.login code maps to (deterministic). */
  static openidForCode(code: string): string {
    const bench = /^user-(\d+)-/.exec(code);
    if (bench) return `o_bench_${bench[1]}`;
    return 'o_' + createHash('sha256').update(code).digest('base64url').slice(0, 26);
  }

  /** The current session key of an openid (made, random, on first use; stable afterwards). */
  sessionKeyOf(openid: string): string {
    let key = this.sessionKeys.get(openid);
    if (!key) {
      key = randomBytes(16).toString('base64');
      this.sessionKeys.set(openid, key);
    }
    return key;
  }

  /** Gives the openid a new session key (as a fresh wx.login would); returns it. */
  rotateSessionKey(openid: string): string {
    const key = randomBytes(16).toString('base64');
    this.sessionKeys.set(openid, key);
    return key;
  }

  /** Registers a wx.login code for an identity. */
  registerCode(code: string, identity: WechatIdentity): void {
    this.codes.set(code, identity);
    this.usedCodes.delete(code);
    if (identity.session_key) this.sessionKeys.set(identity.openid, identity.session_key);
  }

  /** A fresh, never used wx.login code for `openid` (a new unique openid when omitted). */
  newCode(openid?: string, extra: { unionid?: string; session_key?: string } = {}): string {
    const code = `code_${process.pid}_${++this.codeSeq}_${randomBytes(6).toString('hex')}`;
    this.registerCode(code, { openid: openid ?? FakeWechat.openidForCode(code), ...extra });
    return code;
  }

  /** What code2Session answers (or would answer) for a code, without spending it. */
  identityForCode(code: string): Required<Pick<WechatIdentity, 'openid' | 'session_key'>> & WechatIdentity {
    const registered = this.codes.get(code);
    const openid = registered?.openid ?? FakeWechat.openidForCode(code);
    return { ...registered, openid, session_key: this.sessionKeyOf(openid) };
  }

  /** Makes a specific wx.login code answer an errcode (e.g. 40029, 40226, 45011) every time. */
  rejectCode(code: string, errcode: number): void {
    this.codeErrors.set(code, errcode);
  }

  /** Registers a getPhoneNumber button code. */
  registerPhoneCode(code: string, phone: PhoneRegistration): void {
    this.phones.set(code, phone);
    this.usedPhoneCodes.delete(code);
  }

  /** A fresh phone code for a number. */
  newPhoneCode(phone: PhoneRegistration): string {
    const code = `phone_${process.pid}_${++this.codeSeq}_${randomBytes(6).toString('hex')}`;
    this.registerPhoneCode(code, phone);
    return code;
  }

  // ---------------------------------------------------------------- access token

  /** The stable access token WeChat currently hands out (undefined before the first fetch). */
  get currentToken(): string | undefined {
    return this.tokens.currentToken;
  }

  /** Number of `force_refresh: true` fetches received. */
  get forceRefreshCount(): number {
    return this.tokens.forceRefreshCount;
  }

  /**
   * Makes the current token fail: calls carrying it answer `errcode` (40001 / 40014 / 42001).
   * With `rotate` (the default for 42001), a normal stable_token call then hands out a new token;
   * without it WeChat keeps handing the same failing token until `force_refresh: true`.
   */
  revokeToken(errcode = 40001, rotate = errcode === 42001): string | undefined {
    return this.tokens.revoke(errcode, rotate);
  }

  // ---------------------------------------------------------------- faults

  /** The next `times` calls of `api` answer `{errcode, errmsg}` with HTTP 200. */
  failNext(api: WechatApi, errcode: number, times = 1, errmsg?: string): void {
    this.push(api, times, { kind: 'errcode', errcode, errmsg });
  }

  /** The next call answers errcode -1 (system busy). */
  busyOnce(api: WechatApi): void {
    this.failNext(api, -1, 1);
  }

  /** The next `times` calls of `api` wait `ms` before answering normally. */
  delayNext(api: WechatApi, ms: number, times = 1): void {
    this.push(api, times, { kind: 'delay', ms });
  }

  /** The next `times` calls of `api` answer HTTP 500 with an HTML body. */
  http500Next(api: WechatApi, times = 1): void {
    this.push(api, times, { kind: 'http500' });
  }

  /** The next `times` calls of `api` have their connection destroyed without an answer. */
  dropNext(api: WechatApi, times = 1): void {
    this.push(api, times, { kind: 'drop' });
  }

  /** Calls received for one API (all of them when omitted), faulted ones included. */
  calls(api?: WechatApi): number {
    if (api) return this.counts.get(api) ?? 0;
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  /** Resolves once `api` has received at least `count` calls (counted since the last reset()). */
  waitForCalls(api: WechatApi, count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.calls(api) >= count) {
          this.events.off('call', check);
          resolve();
        }
      };
      this.events.on('call', check);
      check();
    });
  }

  /** Requests received for one API. */
  requests(api: WechatApi): ReceivedRequest[] {
    return this.log.filter((r) => r.api === api);
  }

  /** Pending scripted faults for an API. */
  pendingFaults(api: WechatApi): number {
    return this.faults.get(api)?.length ?? 0;
  }

  /** Forgets scripted faults, counters and the log (identities, codes and tokens stay). */
  reset(): void {
    this.faults.clear();
    this.counts.clear();
    this.log.length = 0;
  }

  private push(api: WechatApi, times: number, fault: Fault): void {
    const queue = this.faults.get(api) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(api, queue);
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const raw = await readBody(req);
    let body: unknown = raw;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const route = ROUTES[url.pathname];
    const entry: ReceivedRequest = {
      api: route?.api ?? 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      body,
      headers: req.headers,
      at: Date.now(),
    };
    if (this.keepLog) this.log.push(entry);

    if (!route || route.method !== req.method) {
      // WeChat answers an unknown path with an errcode too.
      return this.reply(res, entry, { errcode: 44002, errmsg: 'invalid path' });
    }
    this.counts.set(route.api, (this.counts.get(route.api) ?? 0) + 1);
    this.events.emit('call', route.api);

    const fault = this.faults.get(route.api)?.shift();
    if (fault?.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, fault.ms);
        this.timers.add(timer);
      });
      if (res.destroyed || res.writableEnded) return;
    } else if (fault?.kind === 'errcode') {
      return this.error(res, entry, fault.errcode, fault.errmsg);
    } else if (fault?.kind === 'http500') {
      entry.status = 500;
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
      return;
    } else if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }

    switch (route.api) {
      case 'jscode2session':
        return this.jscode2session(res, entry, query);
      case 'stable_token':
        return this.stableToken(res, entry, body);
      case 'getuserphonenumber':
        return this.phoneNumber(res, entry, query, body);
      case 'subscribe_send':
        return this.subscribeSend(res, entry, query, body);
      case 'checksession':
        return this.checkSession(res, entry, query);
    }
  }

  private jscode2session(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    if (!q.appid) return this.error(res, entry, 41002);
    if (q.appid !== this.appId) return this.error(res, entry, 40013);
    if (!q.secret) return this.error(res, entry, 41004);
    if (q.secret !== this.appSecret) return this.error(res, entry, 40125);
    if (q.grant_type !== 'authorization_code') return this.error(res, entry, 40002);
    const code = q.js_code;
    if (!code) return this.error(res, entry, 41008);
    const rejected = this.codeErrors.get(code);
    if (rejected !== undefined) return this.error(res, entry, rejected);
    if (this.usedCodes.has(code)) return this.error(res, entry, 40163);
    if (!this.reusableCodes) this.usedCodes.add(code);
    const identity = this.identityForCode(code);
    const answer: Record<string, string> = { session_key: identity.session_key, openid: identity.openid };
    if (identity.unionid) answer.unionid = identity.unionid;
    this.reply(res, entry, answer);
  }

  private stableToken(res: ServerResponse, entry: ReceivedRequest, body: unknown): void {
    if (!isObject(body)) return this.error(res, entry, 47001);
    if (body.grant_type !== 'client_credential') return this.error(res, entry, 40002);
    if (!body.appid) return this.error(res, entry, 41002);
    if (body.appid !== this.appId) return this.error(res, entry, 40013);
    if (!body.secret) return this.error(res, entry, 41004);
    if (body.secret !== this.appSecret) return this.error(res, entry, 40125);
    this.reply(res, entry, this.tokens.fetch(body.force_refresh === true));
  }

  /** 0 when the access_token query parameter is current, else the errcode to answer. */
  private tokenError(q: Record<string, string>): number {
    return this.tokens.errcodeFor(q.access_token);
  }

  private phoneNumber(
    res: ServerResponse,
    entry: ReceivedRequest,
    q: Record<string, string>,
    body: unknown,
  ): void {
    const tokenError = this.tokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!isObject(body)) return this.error(res, entry, 47001);
    const code = body.code;
    if (typeof code !== 'string' || !code) return this.error(res, entry, 41008);
    const phone = this.phones.get(code) ?? (this.reusableCodes ? derivedPhone(code) : undefined);
    if (!phone || this.usedPhoneCodes.has(code)) return this.error(res, entry, 40029);
    if (!this.reusableCodes) this.usedPhoneCodes.add(code);
    const info: Record<string, unknown> = {
      phoneNumber: phone.phoneNumber ?? phone.purePhoneNumber,
      purePhoneNumber: phone.purePhoneNumber,
      countryCode: phone.countryCode ?? '86',
    };
    if (phone.appid !== null) {
      info.watermark = { timestamp: Math.floor(Date.now() / 1000), appid: phone.appid ?? this.appId };
    }
    this.reply(res, entry, { errcode: 0, errmsg: 'ok', phone_info: info });
  }

  private subscribeSend(
    res: ServerResponse,
    entry: ReceivedRequest,
    q: Record<string, string>,
    body: unknown,
  ): void {
    const tokenError = this.tokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!isObject(body)) return this.error(res, entry, 47001);
    if (typeof body.touser !== 'string' || !body.touser) return this.error(res, entry, 40003);
    if (typeof body.template_id !== 'string' || !body.template_id) return this.error(res, entry, 40037);
    if (!isObject(body.data)) return this.error(res, entry, 47003);
    this.reply(res, entry, { errcode: 0, errmsg: 'ok', msgid: Math.floor(Math.random() * 1e12) });
  }

  private checkSession(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    const tokenError = this.tokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!q.openid) return this.error(res, entry, 40003);
    if (q.sig_method !== 'hmac_sha256' || !q.signature) return this.error(res, entry, 87009);
    const key = this.sessionKeys.get(q.openid);
    if (!key || q.signature !== sessionKeySignature(key)) return this.error(res, entry, 87009);
    this.reply(res, entry, { errcode: 0, errmsg: 'ok' });
  }

  private error(res: ServerResponse, entry: ReceivedRequest, errcode: number, errmsg?: string): void {
    this.reply(res, entry, { errcode, errmsg: errmsg ?? ERRMSG[errcode] ?? 'error' });
  }

  private reply(res: ServerResponse, entry: ReceivedRequest, payload: Record<string, unknown>): void {
    entry.status = 200;
    entry.errcode = typeof payload.errcode === 'number' ? payload.errcode : 0;
    if (res.destroyed) return;
    // WeChat labels its JSON as text/plain on several APIs; clients must parse the body regardless.
    res.writeHead(200, { 'content-type': 'application/json; encoding=utf-8' });
    res.end(JSON.stringify(payload));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function derivedPhone(code: string): PhoneRegistration {
  const digits = (createHash('sha256').update(code).digest().readUInt32BE(0) % 100_000_000)
    .toString()
    .padStart(8, '0');
  return { purePhoneNumber: `139${digits}` };
}
