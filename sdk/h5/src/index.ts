import {
  createCore,
  query,
  type KeyValueStorage,
  type Method,
  type RequestOptions,
  type SignInResult,
  type Tokens,
  type Transport,
} from '../../core/core.js';
import { ApiError, ErrorCode, clientError } from '../../core/errors.js';

export * from '../../core/public.js';

export interface JsSdkConfig {
  appId: string;
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/** WeChat's JS-SDK (jweixin), as the page loads it from res.wx.qq.com. */
export interface JsSdk {
  config(options: JsSdkConfig & { debug?: boolean; jsApiList: string[] }): void;
  ready(callback: () => void): void;
  error(callback: (result: { errMsg: string }) => void): void;
}

/** The browser objects this SDK uses (a test can hand in its own). */
export interface BrowserEnv {
  location: { href: string; hash: string; assign(url: string): void };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  localStorage: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    removeItem(key: string): void;
  };
  fetch: (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; credentials?: 'omit' },
  ) => Promise<{ status: number; text(): Promise<string> }>;
  wx?: JsSdk;
}

// The page's window, typed here by what this SDK uses of it.
declare const window: BrowserEnv;

export interface H5ClientOptions {
  /** The API root, e.g. `https://shop.example.com/api/v1`. */
  baseUrl: string;
  /** Where the tokens are kept; localStorage by default. */
  storage?: KeyValueStorage;
  /** window by default. */
  env?: BrowserEnv;
}

export interface SignInOptions {
  /** `snsapi_base` (silent, the default) or `snsapi_userinfo` (WeChat asks the person). */
  scope?: 'snsapi_base' | 'snsapi_userinfo';
}

export interface H5Client {
  /**
   * Back from WeChat with `#ticket=…` in the address: exchanges it for tokens. Otherwise sends the
   * browser to WeChat's sign-in, and the promise never settles (the page goes away).
   */
  signIn(options?: SignInOptions): Promise<SignInResult>;
  request<T = unknown>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  logout(allDevices?: boolean): Promise<void>;
  /** Signs the page's address and passes it to wx.config; resolves on wx.ready. */
  configureJsSdk(jsApiList: string[]): Promise<JsSdkConfig>;
}

export function localStorageOf(env: BrowserEnv): KeyValueStorage {
  return {
    get: (key) => Promise.resolve(env.localStorage.getItem(key)),
    set: (key, value) => Promise.resolve(env.localStorage.setItem(key, value)),
    remove: (key) => Promise.resolve(env.localStorage.removeItem(key)),
  };
}

/** The fragment's sign-in outcome, if it holds one. */
function fragmentOutcome(hash: string): { ticket?: string; error?: string; rest: string } | null {
  const params = hash.replace(/^#/, '').split('&').filter(Boolean);
  let ticket: string | undefined;
  let error: string | undefined;
  const rest: string[] = [];
  for (const part of params) {
    const [key, value = ''] = part.split('=');
    if (key === 'ticket') ticket = decodeURIComponent(value);
    else if (key === 'error') error = decodeURIComponent(value);
    else rest.push(part);
  }
  if (ticket === undefined && error === undefined) return null;
  return { ticket, error, rest: rest.join('&') };
}

export function createH5Client(options: H5ClientOptions): H5Client {
  const env: BrowserEnv = options.env || window;
  const transport: Transport = async (req) => {
    // The tokens travel in a header; no cookie of this origin is needed or wanted.
    const res = await env.fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      credentials: 'omit',
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: unwrap reports it as BAD_RESPONSE with the text as data.
    }
    return { status: res.status, body };
  };
  const core = createCore({
    baseUrl: options.baseUrl,
    transport,
    storage: options.storage ?? localStorageOf(env),
  });
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  async function signIn(signInOptions: SignInOptions = {}): Promise<SignInResult> {
    const outcome = fragmentOutcome(env.location.hash);
    if (outcome) {
      // The ticket leaves the address bar (and the history entry) before anything else.
      const page = env.location.href.split('#')[0];
      env.history.replaceState(null, '', outcome.rest ? `${page}#${outcome.rest}` : page);
      if (outcome.error !== undefined || !outcome.ticket) {
        const code = Number(outcome.error) || ErrorCode.INTERNAL_ERROR;
        throw new ApiError(
          code,
          Math.floor(code / 100),
          `web sign-in failed (${outcome.error ?? 'no ticket'})`,
        );
      }
      const answer = await core.request<Tokens & SignInResult>(
        'POST',
        '/auth/wechat/oauth/exchange',
        { ticket: outcome.ticket },
        { auth: false },
      );
      await core.saveTokens(answer);
      return { user: answer.user, isNewUser: answer.isNewUser };
    }
    const redirect = env.location.href.split('#')[0];
    env.location.assign(
      `${baseUrl}/auth/wechat/oauth/authorize${query({ scope: signInOptions.scope ?? 'snsapi_base', redirect })}`,
    );
    return new Promise<SignInResult>(() => undefined);
  }

  async function configureJsSdk(jsApiList: string[]): Promise<JsSdkConfig> {
    const jssdk = env.wx;
    if (!jssdk) throw clientError(ErrorCode.WX_API_FAILED, 'the WeChat JS-SDK (jweixin) is not loaded');
    // WeChat signs the address as the page has it, without the fragment: sent as it is.
    const url = env.location.href.split('#')[0];
    const config = await core.request<JsSdkConfig>(
      'GET',
      `/wechat/official/jssdk-config${query({ url })}`,
      undefined,
      { auth: false },
    );
    await new Promise<void>((resolve, reject) => {
      jssdk.ready(resolve);
      jssdk.error((result) =>
        reject(clientError(ErrorCode.WX_API_FAILED, `wx.config failed: ${result.errMsg}`, result)),
      );
      jssdk.config(Object.assign({ debug: false, jsApiList }, config));
    });
    return config;
  }

  return { signIn, request: core.request, logout: core.logout, configureJsSdk };
}
