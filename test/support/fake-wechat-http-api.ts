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
 *
 * It is the official account's WeChat too (app id OFFICIAL_APP_ID unless `officialAppId` is given,
 * its own stable tokens): OAuth codes (`newOAuthCode`, or `authorize(location)` playing the WeChat
 * browser step on the link the service redirects to), /sns/userinfo, followers for /cgi-bin/user/info
 * and the sends (`follow`, `unfollow`, `interact`: the 48-hour customer-service window counts from
 * the last interaction), the jsapi_ticket, the menu (`menu`, `setAdminMenu`), template messages
 * (one per openid + client_msg_id in 10 minutes) and customer-service messages (`templateMessages`,
 * `customMessages`). Every official-account call takes `failNext` and the other faults like the rest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeWechatTokens } from './fake-wechat-tokens.js';
import { sessionKeySignature } from './wechat-crypto-helpers.js';

export type WechatApi =
  | 'jscode2session'
  | 'stable_token'
  | 'getuserphonenumber'
  | 'subscribe_send'
  | 'checksession'
  // The official account's calls (stable_token serves both apps, told apart by appid).
  | 'oauth_access_token'
  | 'sns_userinfo'
  | 'user_info'
  | 'getticket'
  | 'menu_create'
  | 'menu_get'
  | 'template_send'
  | 'custom_send';

export const WECHAT_APIS: readonly WechatApi[] = [
  'jscode2session',
  'stable_token',
  'getuserphonenumber',
  'subscribe_send',
  'checksession',
  'oauth_access_token',
  'sns_userinfo',
  'user_info',
  'getticket',
  'menu_create',
  'menu_get',
  'template_send',
  'custom_send',
];

const ROUTES: Record<string, { method: string; api: WechatApi }> = {
  '/sns/jscode2session': { method: 'GET', api: 'jscode2session' },
  '/cgi-bin/stable_token': { method: 'POST', api: 'stable_token' },
  '/wxa/business/getuserphonenumber': { method: 'POST', api: 'getuserphonenumber' },
  '/cgi-bin/message/subscribe/send': { method: 'POST', api: 'subscribe_send' },
  '/wxa/checksession': { method: 'GET', api: 'checksession' },
  '/sns/oauth2/access_token': { method: 'GET', api: 'oauth_access_token' },
  '/sns/userinfo': { method: 'GET', api: 'sns_userinfo' },
  '/cgi-bin/user/info': { method: 'GET', api: 'user_info' },
  '/cgi-bin/ticket/getticket': { method: 'GET', api: 'getticket' },
  '/cgi-bin/menu/create': { method: 'POST', api: 'menu_create' },
  '/cgi-bin/get_current_selfmenu_info': { method: 'GET', api: 'menu_get' },
  '/cgi-bin/message/template/send': { method: 'POST', api: 'template_send' },
  '/cgi-bin/message/custom/send': { method: 'POST', api: 'custom_send' },
};

/**
 * The fake official account's app id unless told otherwise: the one of Tencent's WXBizMsgCrypt
 * sample, so that its published ciphertext also passes the app id check of a service set up with it.
 */
export const OFFICIAL_APP_ID = 'wx2c2769f8efd9abc2';
export const OFFICIAL_APP_SECRET = 'fake-wechat-oa-secret-0123456789abcdef';
/** The browser side of web sign-in: the service redirects here, WeChat's fixed address. */
export const OAUTH_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize';
/** For one openid + client_msg_id WeChat sends one template message within this time. */
const CLIENT_MSG_ID_WINDOW_MS = 600_000;
/** The customer-service window after a user's last interaction. */
const SERVICE_WINDOW_MS = 48 * 3600_000;

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
  40016: 'invalid button size',
  40017: 'invalid button type',
  40018: 'invalid button name size',
  40019: 'invalid button key size',
  40020: 'invalid button url size',
  40023: 'invalid sub button size',
  40024: 'invalid sub button type',
  40025: 'invalid sub button name size',
  40026: 'invalid sub button key size',
  40027: 'invalid sub button url size',
  40054: 'invalid sub button url domain',
  40055: 'invalid button url domain',
  40097: 'invalid args',
  41009: 'missing openid',
  41030: 'invalid page',
  43004: 'require subscribe',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  48001: 'api unauthorized',
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
  /** The official account's app id and secret (default OFFICIAL_APP_ID, OFFICIAL_APP_SECRET). */
  officialAppId?: string;
  officialAppSecret?: string;
  /** Lifetime of a jsapi_ticket, seconds (WeChat: 7200). */
  ticketLifetimeSec?: number;
  /** Customer-service messages allowed after one interaction before errcode 45047 (default 20). */
  customMessageAllowance?: number;
}

/** Who signs in with an OAuth code, as /sns/oauth2/access_token (and /sns/userinfo) answer. */
export interface OAuthIdentity {
  /** The official account's openid (another than the same person's mini-program openid). */
  openid: string;
  /** Default snsapi_base. */
  scope?: 'snsapi_base' | 'snsapi_userinfo';
  /** Answered with the code only for snsapi_userinfo (as documented), and by /sns/userinfo. */
  unionid?: string;
  /** `is_snapshotuser: 1`: a virtual user of the snapshot page. */
  snapshot?: boolean;
  nickname?: string;
  headimgurl?: string;
}

export interface FollowerState {
  openid: string;
  subscribed: boolean;
  unionid?: string;
  /** Unix seconds. */
  subscribeTime: number;
  /** epoch ms of the last interaction (message, click, follow…): opens the 48-hour window. */
  lastInteractionAt: number;
  /** Customer-service messages sent since that interaction. */
  sentSinceInteraction: number;
}

/** A template message WeChat took (a repeat within the client_msg_id window is not listed again). */
export interface SentTemplateMessage {
  touser: string;
  templateId: string;
  clientMsgId?: string;
  msgid: string;
  data: unknown;
  url?: string;
  miniprogram?: unknown;
  at: number;
}

export interface SentCustomMessage {
  touser: string;
  msgtype: string;
  content?: string;
  at: number;
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
  readonly officialAppId: string;
  readonly officialAppSecret: string;
  /** Every request received, in order (reset() clears it). */
  readonly log: ReceivedRequest[] = [];

  private server!: Server;
  private baseUrl = '';
  private readonly tokens: FakeWechatTokens;
  private readonly officialTokens: FakeWechatTokens;
  private ticket: { ticket: string; expiresAt: number } | undefined;
  private readonly ticketLifetimeSec: number;
  private readonly oauthCodes = new Map<string, OAuthIdentity>();
  private readonly usedOAuthCodes = new Set<string>();
  private readonly userTokens = new Map<string, OAuthIdentity>();
  private readonly followers = new Map<string, FollowerState>();
  private createdMenu: { button: unknown[] } | undefined;
  private adminMenu: { isMenuOpen: boolean; selfmenuInfo: Record<string, unknown> } | undefined;
  private readonly templateWindow = new Map<string, { msgid: string; at: number }>();
  private readonly sentTemplates: SentTemplateMessage[] = [];
  private readonly sentCustom: SentCustomMessage[] = [];
  private readonly customAllowance: number;
  /** Template msgids past 2^53, as WeChat's 64-bit ids can be: a client must not read them as doubles. */
  private msgSeq = 9_007_199_254_740_993n;
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
    this.officialAppId = options.officialAppId ?? OFFICIAL_APP_ID;
    this.officialAppSecret = options.officialAppSecret ?? OFFICIAL_APP_SECRET;
    this.officialTokens = new FakeWechatTokens(options.tokenLifetimeSec);
    this.ticketLifetimeSec = options.ticketLifetimeSec ?? 7200;
    this.customAllowance = options.customMessageAllowance ?? 20;
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

  // ---------------------------------------------------------------- the official account

  /** The official account's current stable token (undefined before its first fetch). */
  get currentOfficialToken(): string | undefined {
    return this.officialTokens.currentToken;
  }

  /** `force_refresh: true` fetches of the official account's token. */
  get officialForceRefreshCount(): number {
    return this.officialTokens.forceRefreshCount;
  }

  /** revokeToken, for the official account's token. */
  revokeOfficialToken(errcode = 40001, rotate = errcode === 42001): string | undefined {
    return this.officialTokens.revoke(errcode, rotate);
  }

  /** The jsapi_ticket getticket hands out now (undefined before the first call). */
  get currentTicket(): string | undefined {
    return this.ticket && this.ticket.expiresAt > Date.now() ? this.ticket.ticket : undefined;
  }

  /** The next getticket hands out a new ticket (as when the current one ran out). */
  expireTicket(): void {
    this.ticket = undefined;
  }

  /** The official-account openid an unregistered name maps to (deterministic, not a wx.login openid). */
  static officialOpenidFor(name: string): string {
    return 'oa_' + createHash('sha256').update(`oa:${name}`).digest('base64url').slice(0, 25);
  }

  /** Registers an OAuth code (5 minutes, single use at WeChat; here single use). */
  registerOAuthCode(code: string, identity: OAuthIdentity): void {
    this.oauthCodes.set(code, identity);
    this.usedOAuthCodes.delete(code);
  }

  /** A fresh OAuth code for `identity` (a new unique openid when none is given), as WeChat hands one out. */
  newOAuthCode(identity: Partial<OAuthIdentity> = {}): string {
    const code = `oauth_${process.pid}_${++this.codeSeq}_${randomBytes(6).toString('hex')}`;
    this.registerOAuthCode(code, {
      ...identity,
      openid: identity.openid ?? FakeWechat.officialOpenidFor(code),
    });
    return code;
  }

  /**
   * The WeChat browser step of web sign-in: takes the `Location` the service's authorize answered
   * with, checks it the way WeChat does (open.weixin.qq.com's address, this official account's appid,
   * the parameters appid, redirect_uri, response_type=code, scope, state in that order, then
   * `#wechat_redirect`; throws an Error saying what is wrong otherwise) and returns where WeChat sends
   * the browser: `redirect_uri?code=CODE&state=STATE` with a code for `identity` in the link's scope,
   * or `redirect_uri?state=STATE` when the user gives no consent.
   */
  authorize(
    location: string,
    options: { identity?: Partial<OAuthIdentity>; consent?: boolean } = {},
  ): { redirectTo: string; code?: string; identity?: OAuthIdentity } {
    const hashAt = location.indexOf('#');
    if (hashAt < 0 || location.slice(hashAt) !== '#wechat_redirect') {
      throw new Error(`the authorize link must end with #wechat_redirect: ${location}`);
    }
    const url = new URL(location.slice(0, hashAt));
    if (`${url.origin}${url.pathname}` !== OAUTH_AUTHORIZE_URL) {
      throw new Error(`the authorize link must go to ${OAUTH_AUTHORIZE_URL}: ${location}`);
    }
    const keys = [...url.searchParams.keys()];
    const order = ['appid', 'redirect_uri', 'response_type', 'scope', 'state'];
    if (keys.join(',') !== order.join(',')) {
      throw new Error(
        `the authorize link's parameters must be ${order.join(', ')} in that order: got ${keys.join(', ')}`,
      );
    }
    const query = url.search.slice(1).split('&');
    const redirectUri = query[1].slice('redirect_uri='.length);
    if (encodeURIComponent(decodeURIComponent(redirectUri)) !== redirectUri) {
      throw new Error('redirect_uri must be percent-encoded with encodeURIComponent');
    }
    const param = (name: string) => url.searchParams.get(name) ?? '';
    if (param('appid') !== this.officialAppId) throw new Error(`appid must be ${this.officialAppId}`);
    if (param('response_type') !== 'code') throw new Error('response_type must be code');
    const scope = param('scope');
    if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') throw new Error(`unknown scope ${scope}`);
    const state = param('state');
    if (!/^[A-Za-z0-9]{0,128}$/.test(state)) throw new Error('state must be at most 128 of a-zA-Z0-9');
    const target = new URL(param('redirect_uri'));
    if (options.consent === false) {
      target.searchParams.set('state', state);
      return { redirectTo: target.toString() };
    }
    const identity: OAuthIdentity = {
      ...options.identity,
      openid: options.identity?.openid ?? FakeWechat.officialOpenidFor(randomBytes(8).toString('hex')),
      scope,
    };
    const code = this.newOAuthCode(identity);
    target.searchParams.set('code', code);
    target.searchParams.set('state', state);
    return { redirectTo: target.toString(), code, identity };
  }

  /**
   * `openid` follows the official account (again): /cgi-bin/user/info answers it subscribed with
   * `unionid`, and the customer-service window opens (following is an interaction).
   */
  follow(openid: string, options: { unionid?: string; at?: number } = {}): FollowerState {
    const at = options.at ?? Date.now();
    const state: FollowerState = {
      openid,
      subscribed: true,
      unionid: options.unionid ?? this.followers.get(openid)?.unionid,
      subscribeTime: Math.floor(at / 1000),
      lastInteractionAt: at,
      sentSinceInteraction: 0,
    };
    this.followers.set(openid, state);
    return state;
  }

  /** `openid` stops following: user/info answers subscribe 0, sends answer 43004. */
  unfollow(openid: string): void {
    const state = this.followers.get(openid);
    if (state) state.subscribed = false;
  }

  /** The follower wrote, clicked or scanned at `at`: the 48-hour window starts again, allowance full. */
  interact(openid: string, at = Date.now()): void {
    const state = this.followers.get(openid) ?? this.follow(openid, { at });
    state.lastInteractionAt = at;
    state.sentSinceInteraction = 0;
  }

  /** What the fake holds about a follower (undefined for an openid it never saw follow). */
  follower(openid: string): FollowerState | undefined {
    return this.followers.get(openid);
  }

  /** The menu as menu/create last took it (undefined before any). */
  get menu(): { button: unknown[] } | undefined {
    return this.createdMenu;
  }

  /**
   * A menu made in the official account's admin, as get_current_selfmenu_info answers it
   * (`selfmenu_info` verbatim: types text, img, news… with `value` or `news_info`, `sub_button` as
   * `{ list }`). menu/create replaces it.
   */
  setAdminMenu(selfmenuInfo: Record<string, unknown>, isMenuOpen = true): void {
    this.adminMenu = { isMenuOpen, selfmenuInfo };
    this.createdMenu = undefined;
  }

  /** Template messages WeChat took, oldest first (a repeated client_msg_id is listed once). */
  templateMessages(): SentTemplateMessage[] {
    return [...this.sentTemplates];
  }

  /** Customer-service messages WeChat took, oldest first. */
  customMessages(): SentCustomMessage[] {
    return [...this.sentCustom];
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

  /**
   * Forgets scripted faults, counters, the log and the lists of sent messages (identities, codes,
   * tokens, followers, the menu and the client_msg_id memory stay).
   */
  reset(): void {
    this.faults.clear();
    this.counts.clear();
    this.log.length = 0;
    // Records like the log; what WeChat remembers (client_msg_id, followers, the menu) stays.
    this.sentTemplates.length = 0;
    this.sentCustom.length = 0;
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
      case 'oauth_access_token':
        return this.oauthAccessToken(res, entry, query);
      case 'sns_userinfo':
        return this.snsUserinfo(res, entry, query);
      case 'user_info':
        return this.userInfo(res, entry, query);
      case 'getticket':
        return this.getTicket(res, entry, query);
      case 'menu_create':
        return this.menuCreate(res, entry, query, body);
      case 'menu_get':
        return this.menuGet(res, entry, query);
      case 'template_send':
        return this.templateSend(res, entry, query, body);
      case 'custom_send':
        return this.customSend(res, entry, query, body);
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
    // Each app has its own secret and its own tokens.
    const app =
      body.appid === this.appId
        ? { secret: this.appSecret, tokens: this.tokens }
        : body.appid === this.officialAppId
          ? { secret: this.officialAppSecret, tokens: this.officialTokens }
          : undefined;
    if (!app) return this.error(res, entry, 40013);
    if (!body.secret) return this.error(res, entry, 41004);
    if (body.secret !== app.secret) return this.error(res, entry, 40125);
    this.reply(res, entry, app.tokens.fetch(body.force_refresh === true));
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

  // ---------------------------------------------------------------- official-account calls

  /** 0 when the access_token query parameter is the official account's current token. */
  private officialTokenError(q: Record<string, string>): number {
    return this.officialTokens.errcodeFor(q.access_token);
  }

  private oauthAccessToken(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    if (!q.appid) return this.error(res, entry, 41002);
    if (q.appid !== this.officialAppId) return this.error(res, entry, 40013);
    if (!q.secret) return this.error(res, entry, 41004);
    if (q.secret !== this.officialAppSecret) return this.error(res, entry, 40125);
    if (q.grant_type !== 'authorization_code') return this.error(res, entry, 40002);
    if (!q.code) return this.error(res, entry, 41008);
    const identity = this.oauthCodes.get(q.code);
    if (!identity) return this.error(res, entry, 40029);
    if (this.usedOAuthCodes.has(q.code)) return this.error(res, entry, 40163);
    this.usedOAuthCodes.add(q.code);
    const scope = identity.scope ?? 'snsapi_base';
    const token = `OAUTH_TOKEN_${randomBytes(18).toString('base64url')}`;
    this.userTokens.set(token, { ...identity, scope });
    const answer: Record<string, unknown> = {
      access_token: token,
      expires_in: 7200,
      refresh_token: `OAUTH_REFRESH_${randomBytes(18).toString('base64url')}`,
      openid: identity.openid,
      scope,
    };
    if (identity.snapshot) answer.is_snapshotuser = 1;
    if (scope === 'snsapi_userinfo' && identity.unionid) answer.unionid = identity.unionid;
    this.reply(res, entry, answer);
  }

  private snsUserinfo(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    if (!q.access_token) return this.error(res, entry, 41001);
    const identity = this.userTokens.get(q.access_token);
    if (!identity) return this.error(res, entry, 40001);
    if (q.openid !== identity.openid) return this.error(res, entry, 40003);
    if (identity.scope !== 'snsapi_userinfo') return this.error(res, entry, 48001);
    const answer: Record<string, unknown> = {
      openid: identity.openid,
      nickname: identity.nickname ?? 'WeChat user',
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: identity.headimgurl ?? 'https://thirdwx.qlogo.cn/mmopen/vi_32/fake/132',
      privilege: [],
    };
    if (identity.unionid) answer.unionid = identity.unionid;
    this.reply(res, entry, answer);
  }

  private userInfo(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!q.openid) return this.error(res, entry, 41009);
    const follower = this.followers.get(q.openid);
    if (!follower?.subscribed) return this.reply(res, entry, { subscribe: 0, openid: q.openid });
    const answer: Record<string, unknown> = {
      subscribe: 1,
      openid: follower.openid,
      language: 'zh_CN',
      subscribe_time: follower.subscribeTime,
      remark: '',
      groupid: 0,
      tagid_list: [],
      subscribe_scene: 'ADD_SCENE_QR_CODE',
      qr_scene: 0,
      qr_scene_str: '',
    };
    if (follower.unionid) answer.unionid = follower.unionid;
    this.reply(res, entry, answer);
  }

  private getTicket(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (q.type !== 'jsapi') return this.error(res, entry, 40097);
    const now = Date.now();
    // As the stable token: the same ticket with what it has left, a new one 5 minutes before it ends.
    if (!this.ticket || this.ticket.expiresAt - now <= 300_000) {
      this.ticket = {
        ticket: `JSAPI_TICKET_${randomBytes(30).toString('base64url')}`,
        expiresAt: now + this.ticketLifetimeSec * 1000,
      };
    }
    this.reply(res, entry, {
      errcode: 0,
      errmsg: 'ok',
      ticket: this.ticket.ticket,
      expires_in: Math.max(1, Math.floor((this.ticket.expiresAt - now) / 1000)),
    });
  }

  private menuCreate(
    res: ServerResponse,
    entry: ReceivedRequest,
    q: Record<string, string>,
    body: unknown,
  ): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!isObject(body) || !Array.isArray(body.button)) return this.error(res, entry, 47001);
    const refused = menuErrcode(body.button);
    if (refused) return this.error(res, entry, refused);
    this.createdMenu = { button: structuredClone(body.button) };
    this.adminMenu = undefined;
    this.reply(res, entry, { errcode: 0, errmsg: 'ok' });
  }

  private menuGet(res: ServerResponse, entry: ReceivedRequest, q: Record<string, string>): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (this.adminMenu) {
      return this.reply(res, entry, {
        is_menu_open: this.adminMenu.isMenuOpen ? 1 : 0,
        selfmenu_info: this.adminMenu.selfmenuInfo,
      });
    }
    if (!this.createdMenu) return this.reply(res, entry, { is_menu_open: 0, selfmenu_info: { button: [] } });
    // get_current_selfmenu_info wraps a button's sub-buttons in `{ list: [...] }`.
    const button = this.createdMenu.button.map((b) => {
      const top = b as Record<string, unknown>;
      return Array.isArray(top.sub_button) ? { ...top, sub_button: { list: top.sub_button } } : top;
    });
    this.reply(res, entry, { is_menu_open: 1, selfmenu_info: { button } });
  }

  private templateSend(
    res: ServerResponse,
    entry: ReceivedRequest,
    q: Record<string, string>,
    body: unknown,
  ): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!isObject(body)) return this.error(res, entry, 47001);
    if (typeof body.touser !== 'string' || !body.touser) return this.error(res, entry, 40003);
    if (typeof body.template_id !== 'string' || !body.template_id) return this.error(res, entry, 40037);
    if (!isObject(body.data)) return this.error(res, entry, 47003);
    if (!this.followers.get(body.touser)?.subscribed) return this.error(res, entry, 43004);
    const now = Date.now();
    const clientMsgId = typeof body.client_msg_id === 'string' ? body.client_msg_id : undefined;
    const key = clientMsgId === undefined ? undefined : `${body.touser}\n${clientMsgId}`;
    const earlier = key === undefined ? undefined : this.templateWindow.get(key);
    if (earlier && now - earlier.at < CLIENT_MSG_ID_WINDOW_MS) {
      return this.reply(res, entry, { errcode: 0, errmsg: 'ok', msgid: earlier.msgid }, ['msgid']);
    }
    const msgid = String(this.msgSeq++);
    if (key !== undefined) this.templateWindow.set(key, { msgid, at: now });
    this.sentTemplates.push({
      touser: body.touser,
      templateId: body.template_id,
      clientMsgId,
      msgid,
      data: body.data,
      url: typeof body.url === 'string' ? body.url : undefined,
      miniprogram: body.miniprogram,
      at: now,
    });
    this.reply(res, entry, { errcode: 0, errmsg: 'ok', msgid }, ['msgid']);
  }

  private customSend(
    res: ServerResponse,
    entry: ReceivedRequest,
    q: Record<string, string>,
    body: unknown,
  ): void {
    const tokenError = this.officialTokenError(q);
    if (tokenError) return this.error(res, entry, tokenError);
    if (!isObject(body)) return this.error(res, entry, 47001);
    if (typeof body.touser !== 'string' || !body.touser) return this.error(res, entry, 40003);
    if (typeof body.msgtype !== 'string') return this.error(res, entry, 47001);
    const content =
      isObject(body.text) && typeof body.text.content === 'string' ? body.text.content : undefined;
    if (body.msgtype === 'text' && !content) return this.error(res, entry, 47001);
    const follower = this.followers.get(body.touser);
    if (!follower?.subscribed) return this.error(res, entry, 43004);
    const now = Date.now();
    if (now - follower.lastInteractionAt > SERVICE_WINDOW_MS) return this.error(res, entry, 45015);
    if (follower.sentSinceInteraction >= this.customAllowance) return this.error(res, entry, 45047);
    follower.sentSinceInteraction++;
    this.sentCustom.push({ touser: body.touser, msgtype: body.msgtype, content, at: now });
    this.reply(res, entry, { errcode: 0, errmsg: 'ok' });
  }

  private error(res: ServerResponse, entry: ReceivedRequest, errcode: number, errmsg?: string): void {
    this.reply(res, entry, { errcode, errmsg: errmsg ?? ERRMSG[errcode] ?? 'error' });
  }

  /** `bareNumbers`: string fields of `payload` written as JSON numbers (64-bit ids past 2^53). */
  private reply(
    res: ServerResponse,
    entry: ReceivedRequest,
    payload: Record<string, unknown>,
    bareNumbers: string[] = [],
  ): void {
    entry.status = 200;
    entry.errcode = typeof payload.errcode === 'number' ? payload.errcode : 0;
    if (res.destroyed) return;
    let text = JSON.stringify(payload);
    for (const field of bareNumbers) text = text.replace(new RegExp(`"${field}":"(\\d+)"`), `"${field}":$1`);
    // WeChat labels its JSON as text/plain on several APIs; clients must parse the body regardless.
    res.writeHead(200, { 'content-type': 'application/json; encoding=utf-8' });
    res.end(text);
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

const MENU_TYPES = new Set([
  'click',
  'view',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
  'miniprogram',
  'article_id',
  'article_view_limited',
  'media_id',
  'view_limited',
]);
const KEYED_TYPES = new Set([
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
]);

/** What menu/create answers a menu WeChat refuses (the errcodes of its documentation), else 0. */
function menuErrcode(buttons: unknown[]): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  if (buttons.length < 1 || buttons.length > 3) return 40016;
  for (const top of buttons) {
    if (!isObject(top)) return 47001;
    const name = bytes(top.name);
    if (Array.isArray(top.sub_button)) {
      if (name < 1 || name > 16) return 40018;
      if (top.sub_button.length < 1 || top.sub_button.length > 5) return 40023;
      for (const sub of top.sub_button) {
        if (!isObject(sub)) return 47001;
        const refused = buttonErrcode(sub, 60, { type: 40024, name: 40025, key: 40026, url: 40027 });
        if (refused) return refused;
      }
      continue;
    }
    const refused = buttonErrcode(top, 16, { type: 40017, name: 40018, key: 40019, url: 40020 });
    if (refused) return refused;
  }
  return 0;

  function buttonErrcode(
    button: Record<string, unknown>,
    maxName: number,
    codes: { type: number; name: number; key: number; url: number },
  ): number {
    if (typeof button.type !== 'string' || !MENU_TYPES.has(button.type)) return codes.type;
    const name = bytes(button.name);
    if (name < 1 || name > maxName) return codes.name;
    if (KEYED_TYPES.has(button.type) && (bytes(button.key) < 1 || bytes(button.key) > 128)) return codes.key;
    if (
      (button.type === 'view' || button.type === 'miniprogram') &&
      (bytes(button.url) < 1 || bytes(button.url) > 1024)
    ) {
      return codes.url;
    }
    return 0;
  }
}
