/**
 * WeChat's HTTP side for unit tests of the live client and the access-token provider: its state in
 * this process's memory (tokens, scripted answers, every call recorded), served on a loopback port
 * so the client under test speaks real HTTP whatever library it uses. It keeps WeChat's stable-token
 * rules and wire format (WeChat's documentation: errors as HTTP 200 `{errcode, errmsg}`), reads the clock it is
 * given (a test's fake clock), and lets the test order events: hold a call, act before answering.
 *
 *   const wechat = await InMemoryWechat.start({ appId, appSecret });   // wechat.url for the client
 *   wechat.next('getuserphonenumber', { errcode: -1 });                 // the next call is busy
 *   const release = wechat.hold('stable_token');                        // the next call waits for release()
 *   wechat.refuse(40001);                                                // the current token stops working
 *   await wechat.close();
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type InMemoryWechatApi = 'stable_token' | 'getuserphonenumber' | 'subscribe_send' | 'checksession';

const ROUTES: Record<string, InMemoryWechatApi> = {
  'POST /cgi-bin/stable_token': 'stable_token',
  'POST /wxa/business/getuserphonenumber': 'getuserphonenumber',
  'POST /cgi-bin/message/subscribe/send': 'subscribe_send',
  'GET /wxa/checksession': 'checksession',
};

/** WeChat hands out a new stable token this long before the current one expires. */
const RENEWAL_WINDOW_MS = 300_000;

export interface InMemoryCall {
  api: InMemoryWechatApi | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** performance.now() when the call arrived (not Date.now(), which tests may move). */
  at: number;
}

/** What the next call of an API does instead of (or before) answering normally. */
export type Step =
  | { errcode: number }
  /** Waits for the promise (or the caller hanging up) before answering normally. */
  | { until: Promise<void> }
  /** Runs before the answer is computed (e.g. another instance acting meanwhile). */
  | { before: (call: InMemoryCall) => void | Promise<void> };

interface TokenState {
  token: string;
  expiresAt: number;
  refusedWith?: number;
}

export class InMemoryWechat {
  readonly appId: string;
  readonly appSecret: string;
  /** Lifetime of a stable token, seconds (WeChat: 7200). */
  tokenLifetimeSec = 7200;
  readonly calls: InMemoryCall[] = [];

  private current: TokenState | undefined;
  private readonly issued = new Map<string, TokenState>();
  private readonly steps = new Map<InMemoryWechatApi, Step[]>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  private server!: Server;
  private baseUrl = '';

  private constructor(
    options: { appId: string; appSecret: string },
    private readonly now: () => number,
  ) {
    this.appId = options.appId;
    this.appSecret = options.appSecret;
  }

  /** Starts serving on 127.0.0.1 (a port the OS picks); `now` is WeChat's clock. */
  static async start(
    options: { appId: string; appSecret: string },
    now: () => number = () => Date.now(),
  ): Promise<InMemoryWechat> {
    const wechat = new InMemoryWechat(options, now);
    wechat.server = createServer((req, res) => {
      void wechat.serve(req).then(
        (payload) => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'application/json; encoding=utf-8' });
          res.end(JSON.stringify(payload));
        },
        () => res.destroy(),
      );
    });
    await new Promise<void>((resolve) => wechat.server.listen(0, '127.0.0.1', resolve));
    wechat.baseUrl = `http://127.0.0.1:${(wechat.server.address() as AddressInfo).port}`;
    return wechat;
  }

  /** For WECHAT_API_BASE_URL. */
  get url(): string {
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The token a normal stable_token call hands out now (undefined before the first one). */
  get currentToken(): string | undefined {
    return this.current?.token;
  }

  count(api: InMemoryWechatApi): number {
    return this.calls.filter((call) => call.api === api).length;
  }

  /** The force_refresh flag of every stable_token call, in order. */
  forceFlags(): unknown[] {
    return this.callsOf('stable_token').map((call) => call.body?.force_refresh);
  }

  callsOf(api: InMemoryWechatApi): InMemoryCall[] {
    return this.calls.filter((call) => call.api === api);
  }

  /** The access_token query parameter of every call of `api`, in order. */
  tokensUsed(api: InMemoryWechatApi): Array<string | undefined> {
    return this.callsOf(api).map((call) => call.query.access_token);
  }

  /** Resolves once `api` has received `count` calls in all. */
  waitForCalls(api: InMemoryWechatApi, count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.count(api) < count) return;
        this.events.off('call', check);
        resolve();
      };
      this.events.on('call', check);
      check();
    });
  }

  /** Scripts the next `times` calls of `api`. */
  next(api: InMemoryWechatApi, step: Step, times = 1): void {
    const queue = this.steps.get(api) ?? [];
    for (let i = 0; i < times; i++) queue.push(step);
    this.steps.set(api, queue);
  }

  /** The next call of `api` waits until the returned function is called. */
  hold(api: InMemoryWechatApi): () => void {
    let release!: () => void;
    this.next(api, { until: new Promise<void>((resolve) => (release = resolve)) });
    return release;
  }

  /**
   * The current token stops working: calls carrying it answer `errcode`. With `rotate`, the next
   * normal stable_token call hands out a new token; without it WeChat keeps handing out the refused
   * one until `force_refresh: true` (both happen, WeChat's documentation).
   */
  refuse(errcode = 40001, options: { rotate?: boolean } = {}): string | undefined {
    const refused = this.current;
    if (!refused) return undefined;
    refused.refusedWith = errcode;
    if (options.rotate) this.current = undefined;
    return refused.token;
  }

  /**
   * A token obtained outside this test's callers (another instance, another service with the same
   * app): the previous one is refused from now on. Returns the new token.
   */
  issueElsewhere(): string {
    if (this.current) this.current.refusedWith = 40001;
    return this.issue().token;
  }

  private async serve(req: IncomingMessage): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'http://wechat');
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> | undefined;
    try {
      body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : undefined;
    } catch {
      body = undefined;
    }
    const call: InMemoryCall = {
      api: ROUTES[`${method} ${url.pathname}`] ?? 'unknown',
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      body,
      at: performance.now(),
    };
    this.calls.push(call);
    this.events.emit('call');
    if (call.api === 'unknown') return { errcode: 44002, errmsg: 'invalid path' };

    const step = this.steps.get(call.api)?.shift();
    if (step && 'errcode' in step) return { errcode: step.errcode, errmsg: 'scripted' };
    if (step && 'until' in step) await untilOrHangUp(step.until, req);
    if (step && 'before' in step) await step.before(call);

    switch (call.api) {
      case 'stable_token':
        return this.stableToken(body);
      case 'getuserphonenumber': {
        const refused = this.tokenError(call.query.access_token);
        if (refused) return { errcode: refused, errmsg: 'access_token refused' };
        return {
          errcode: 0,
          errmsg: 'ok',
          phone_info: {
            phoneNumber: '13800138000',
            purePhoneNumber: '13800138000',
            countryCode: '86',
            watermark: { timestamp: Math.floor(this.now() / 1000), appid: this.appId },
          },
        };
      }
      default: {
        const refused = this.tokenError(call.query.access_token);
        return refused ? { errcode: refused, errmsg: 'access_token refused' } : { errcode: 0, errmsg: 'ok' };
      }
    }
  }

  private stableToken(body: Record<string, unknown> | undefined): Record<string, unknown> {
    if (!body || body.grant_type !== 'client_credential')
      return { errcode: 40002, errmsg: 'invalid grant_type' };
    if (body.appid !== this.appId) return { errcode: 40013, errmsg: 'invalid appid' };
    if (body.secret !== this.appSecret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    const now = this.now();
    if (body.force_refresh === true) {
      if (this.current) this.current.refusedWith ??= 40001;
      this.issue();
    } else if (!this.current || this.current.expiresAt - now <= RENEWAL_WINDOW_MS) {
      // Renewed 5 minutes before expiry; the old token keeps working until it expires.
      this.issue();
    }
    const state = this.current!;
    return { access_token: state.token, expires_in: Math.floor((state.expiresAt - now) / 1000) };
  }

  private issue(): TokenState {
    const state = {
      token: `AT_${randomBytes(12).toString('base64url')}`,
      expiresAt: this.now() + this.tokenLifetimeSec * 1000,
    };
    this.current = state;
    this.issued.set(state.token, state);
    return state;
  }

  /** 0 when `token` works, else the errcode WeChat answers. */
  private tokenError(token: string | undefined): number {
    if (!token) return 41001;
    const state = this.issued.get(token);
    if (!state) return 40001;
    if (state.refusedWith) return state.refusedWith;
    if (state.expiresAt <= this.now()) return 42001;
    return 0;
  }
}

/** Resolves with `until`, or rejects when the client hangs up first (its time limit). */
function untilOrHangUp(until: Promise<void>, req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('client hung up'));
    req.socket.once('close', onClose);
    void until.then(() => {
      req.socket.off('close', onClose);
      resolve();
    });
  });
}
