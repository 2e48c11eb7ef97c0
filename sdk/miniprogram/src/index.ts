import {
  createCore,
  type KeyValueStorage,
  type Method,
  type RequestOptions,
  type SignInResult,
  type Tokens,
  type Transport,
  type User,
} from '../../core/core.js';
import { ApiError, ErrorCode, clientError } from '../../core/errors.js';

export * from '../../core/public.js';

interface WxCallbacks<T> {
  success?: (result: T) => void;
  fail?: (error: { errMsg: string }) => void;
}

/** The part of the mini-program's `wx` this SDK uses (a test can hand in its own). */
export interface MiniProgramWx {
  request(
    options: {
      url: string;
      method: Exclude<Method, 'PATCH'>;
      header: Record<string, string>;
      data?: string | Record<string, unknown>;
      dataType?: 'json';
    } & WxCallbacks<{ statusCode: number; data: unknown }>,
  ): unknown;
  login(options: WxCallbacks<{ code: string }>): void;
  getStorage(options: { key: string } & WxCallbacks<{ data: unknown }>): void;
  setStorage(options: { key: string; data: string } & WxCallbacks<unknown>): void;
  removeStorage(options: { key: string } & WxCallbacks<unknown>): void;
  requestPayment(options: PayParams & WxCallbacks<unknown>): void;
  requestSubscribeMessage(options: { tmplIds: string[] } & WxCallbacks<Record<string, string>>): void;
}

// The mini-program's global; typed here by what this SDK uses of it.
declare const wx: MiniProgramWx | undefined;

export interface PayParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface Order {
  id: string;
  status: 'pending_payment' | 'paid' | 'shipped' | 'completed' | 'cancelled' | 'refunding' | 'refunded';
  totalAmount: number;
  [field: string]: unknown;
}

export interface Timers {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface ClientOptions {
  /** The API root, e.g. `https://shop.example.com/api/v1`. */
  baseUrl: string;
  /** Where the tokens are kept; wx.setStorage by default. */
  storage?: KeyValueStorage;
  /** The `wx` object; the global one by default. */
  wx?: MiniProgramWx;
  /** Clock and waiting for pay()'s polling; real time by default. */
  timers?: Timers;
}

export interface PayOptions {
  /** How long to wait for the server to see the payment; 15 s by default. */
  timeoutMs?: number;
  /** Between two reads of the order; 1 s by default. */
  intervalMs?: number;
}

/** What `<button open-type="getPhoneNumber" bindgetphonenumber="…">` hands its handler. */
export interface PhoneNumberEvent {
  detail: { code?: string; errMsg?: string };
}

export interface EncryptedData {
  encryptedData: string;
  iv: string;
}

export interface Client {
  /** wx.login, then the service's login; the tokens are kept in storage. */
  login(): Promise<SignInResult>;
  /** A call of the API: the envelope's `data`, or an ApiError. */
  request<T = unknown>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  logout(allDevices?: boolean): Promise<void>;
  /** The phone number button's code, sent to the service; the user with the (masked) phone. */
  bindPhone(event: PhoneNumberEvent): Promise<User>;
  /**
   * Decrypts data from a WeChat API (wx.getWeRunData, …). wx.login comes first: the data must be
   * fetched after the login whose session key the service holds.
   */
  decrypt<T = Record<string, unknown>>(fetchData: () => Promise<EncryptedData>): Promise<T>;
  /** Pays an order and resolves once the service says it is paid. */
  pay(orderId: string, options?: PayOptions): Promise<Order>;
  /** Asks the user for subscribe messages and reports the answer; the quotas per template. */
  subscribe(templateIds: string[]): Promise<Record<string, number>>;
}

function call<T, O extends object>(fn: (options: O & WxCallbacks<T>) => unknown, options: O): Promise<T> {
  return new Promise((resolve, reject) => {
    // Object.assign, not a spread: esbuild's ES2015 spread helper costs more than the call.
    fn(Object.assign({}, options, { success: resolve, fail: reject }) as O & WxCallbacks<T>);
  });
}

function wxFailure(error: unknown, what: string): ApiError {
  const errMsg =
    error && typeof error === 'object' && 'errMsg' in error
      ? String((error as { errMsg: unknown }).errMsg)
      : String(error);
  return clientError(ErrorCode.WX_API_FAILED, `${what} failed: ${errMsg}`, { errMsg });
}

export function wxStorage(wxApi: MiniProgramWx): KeyValueStorage {
  return {
    get: (key) =>
      call(wxApi.getStorage.bind(wxApi), { key }).then(
        (result) => (typeof result.data === 'string' ? result.data : null),
        // getStorage fails for a key never set.
        () => null,
      ),
    set: (key, data) => call(wxApi.setStorage.bind(wxApi), { key, data }).then(() => undefined),
    remove: (key) =>
      call(wxApi.removeStorage.bind(wxApi), { key }).then(
        () => undefined,
        () => undefined,
      ),
  };
}

export function createClient(options: ClientOptions): Client {
  // The free variable, not globalThis.wx: globalThis is missing from older iOS JavaScriptCore.
  const wxApi: MiniProgramWx = options.wx || (typeof wx === 'undefined' ? undefined : wx)!;
  const timers: Timers = options.timers ?? {
    now: () => Date.now(),
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  };

  const transport: Transport = (req) =>
    // wx.request knows no PATCH (its methods are GET, POST, PUT, DELETE, HEAD, OPTIONS, TRACE and
    // CONNECT): say so here rather than as the device's "invalid method".
    req.method === 'PATCH'
      ? Promise.reject(
          clientError(ErrorCode.WX_API_FAILED, 'wx.request cannot send PATCH', {
            errMsg: 'request:fail invalid method',
          }),
        )
      : call(wxApi.request.bind(wxApi), {
          url: req.url,
          method: req.method,
          header: req.headers,
          data: req.body as Record<string, unknown> | undefined,
          dataType: 'json' as const,
        }).then((res) => ({ status: res.statusCode, body: res.data }));

  // Two logins at once (a page and decrypt, say) share one wx.login and one service login.
  let loggingIn: Promise<SignInResult> | null = null;

  function login(): Promise<SignInResult> {
    if (!loggingIn) {
      loggingIn = signIn().then(
        (result) => ((loggingIn = null), result),
        (error: unknown) => {
          loggingIn = null;
          throw error;
        },
      );
    }
    return loggingIn;
  }

  async function signIn(): Promise<SignInResult> {
    let code: string;
    try {
      code = (await call(wxApi.login.bind(wxApi), {})).code;
    } catch (error) {
      throw wxFailure(error, 'wx.login');
    }
    const answer = await core.request<Tokens & SignInResult>(
      'POST',
      '/auth/wechat/login',
      { code },
      { auth: false },
    );
    await core.saveTokens(answer);
    return { user: answer.user, isNewUser: answer.isNewUser };
  }

  const core = createCore({
    baseUrl: options.baseUrl,
    transport,
    storage: options.storage ?? wxStorage(wxApi),
    relogin: login,
  });

  async function bindPhone(event: PhoneNumberEvent): Promise<User> {
    const code = event && event.detail && event.detail.code;
    if (!code) {
      // The user refused, or the base library is too old to hand out a code.
      throw clientError(ErrorCode.WX_API_FAILED, 'no phone number code', {
        errMsg: event?.detail?.errMsg ?? '',
      });
    }
    return core.request<User>('POST', '/users/me/phone', { code });
  }

  async function decrypt<T>(fetchData: () => Promise<EncryptedData>): Promise<T> {
    const attempt = async () => {
      const { encryptedData, iv } = await fetchData();
      return core.request<T>('POST', '/wechat/decrypt', { encryptedData, iv });
    };
    await login();
    let fetchedAgain = false;
    let loggedInAgain = false;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // Fetched before the latest login (another login slipped in): fetch again, same key.
        if (error.code === ErrorCode.DATA_FETCHED_BEFORE_LOGIN && !fetchedAgain) fetchedAgain = true;
        else if (error.code === ErrorCode.SESSION_KEY_STALE && !loggedInAgain) {
          loggedInAgain = true;
          await login();
        } else throw error;
      }
    }
  }

  async function pay(orderId: string, payOptions: PayOptions = {}): Promise<Order> {
    const timeoutMs = payOptions.timeoutMs ?? 15000;
    const intervalMs = payOptions.intervalMs ?? 1000;
    const path = `/orders/${encodeURIComponent(orderId)}`;
    const params = await core.request<PayParams>('POST', `${path}/pay`);
    try {
      await call(wxApi.requestPayment.bind(wxApi), params);
    } catch (error) {
      const failure = wxFailure(error, 'wx.requestPayment');
      const errMsg = (failure.data as { errMsg: string }).errMsg;
      if (/cancel/.test(errMsg)) throw clientError(ErrorCode.PAY_CANCELLED, 'payment cancelled', { errMsg });
      throw failure;
    }
    // wx.requestPayment's success proves nothing: the order's status on the server does.
    const deadline = timers.now() + timeoutMs;
    for (;;) {
      const order = await core.request<Order>('GET', path);
      if (order.status === 'cancelled')
        throw clientError(ErrorCode.PAY_NOT_PAID, 'the order was not paid', order);
      if (order.status !== 'pending_payment') return order;
      if (timers.now() >= deadline)
        throw clientError(ErrorCode.PAY_TIMEOUT, 'payment not confirmed in time', order);
      await timers.sleep(intervalMs);
    }
  }

  async function subscribe(templateIds: string[]): Promise<Record<string, number>> {
    let answer: Record<string, string>;
    try {
      answer = await call(wxApi.requestSubscribeMessage.bind(wxApi), { tmplIds: templateIds });
    } catch (error) {
      throw wxFailure(error, 'wx.requestSubscribeMessage');
    }
    const results: Record<string, string> = {};
    for (const id of templateIds) if (typeof answer[id] === 'string') results[id] = answer[id];
    const data = await core.request<{ quotas: Record<string, number> }>('POST', '/messages/subscriptions', {
      results,
    });
    return data.quotas;
  }

  return {
    login,
    request: core.request,
    logout: core.logout,
    bindPhone,
    decrypt,
    pay,
    subscribe,
  };
}
