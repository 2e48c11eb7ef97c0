import { ApiError, ErrorCode, clientError } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  /** A JSON-serialisable value; left out when the request has no body. */
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  /** The parsed JSON body, or whatever the platform gave when it was not JSON. */
  body: unknown;
}

/** Sends one HTTP request; rejects only when no answer came at all. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** Where the login is kept between launches. */
export interface KeyValueStorage {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
}

export interface User {
  id: string;
  nickname: string | null;
  avatarUrl: string | null;
  gender: 0 | 1 | 2;
  phone: string | null;
  role: 'user' | 'admin';
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

export interface SignInResult {
  user: User;
  isNewUser: boolean;
}

export interface RequestOptions {
  /** Extra headers (`Idempotency-Key`, say). */
  headers?: Record<string, string>;
  /** false: no token is sent and a 401 is not recovered from (login, refresh, public reads). */
  auth?: boolean;
}

export interface CoreOptions {
  /** The API root, e.g. `https://shop.example.com/api/v1`. */
  baseUrl: string;
  transport: Transport;
  storage: KeyValueStorage;
  /**
   * Signs in again without the user (the mini-program's wx.login). Without it (H5: a web sign-in
   * leaves the page) a login that cannot be refreshed ends in the request's error.
   */
  relogin?: () => Promise<unknown>;
  storageKey?: string;
}

interface Session {
  accessToken: string;
  refreshToken: string;
}

const SESSION_KEY = 'wxb_session';

/**
 * Refresh failures that mean the login is gone and only a new sign-in helps (indexOf, not
 * includes: ES2016 is not in every base library this targets).
 */
const LOGIN_GONE: readonly number[] = [
  ErrorCode.AUTH_REQUIRED,
  ErrorCode.REFRESH_TOKEN_INVALID,
  ErrorCode.REFRESH_TOKEN_REUSED,
];

export interface Core {
  request<T = unknown>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** Stores the tokens of a login, web sign-in or refresh. */
  saveTokens(tokens: Pick<Tokens, 'accessToken' | 'refreshToken'>): Promise<void>;
  clearSession(): Promise<void>;
  /** The access token now kept, if any. */
  accessToken(): Promise<string | null>;
  /** Ends the login on the server and forgets it here (here even when the server cannot be told). */
  logout(allDevices?: boolean): Promise<void>;
}

export function createCore(options: CoreOptions): Core {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const storageKey = options.storageKey ?? SESSION_KEY;
  // undefined: not read from storage yet; null: no login.
  let session: Session | null | undefined;
  let loading: Promise<Session | null> | null = null;
  // One refresh and one re-login at a time, whoever asks: the refresh token is good for one use
  // only, so a second refresh with it would be taken for reuse and end the whole login.
  // Keyed by the access token that failed, and kept once settled while the session moved on, so
  // that a caller arriving late gets the outcome instead of starting another round.
  let refreshing: { token: string; done: boolean; promise: Promise<void> } | null = null;
  let relogging: { token: string; promise: Promise<void> } | null = null;

  async function current(): Promise<Session | null> {
    if (session !== undefined) return session;
    if (!loading) {
      loading = options.storage.get(storageKey).then((raw) => {
        let parsed: Session | null = null;
        try {
          const value = raw ? (JSON.parse(raw) as Partial<Session>) : null;
          if (value && typeof value.accessToken === 'string' && typeof value.refreshToken === 'string') {
            parsed = { accessToken: value.accessToken, refreshToken: value.refreshToken };
          }
        } catch {
          parsed = null;
        }
        // A login saved while storage was being read wins over what storage held.
        if (session === undefined) session = parsed;
        return session;
      });
    }
    return loading;
  }

  const token = (): string | null => (session ? session.accessToken : null);

  async function saveTokens(tokens: Pick<Tokens, 'accessToken' | 'refreshToken'>): Promise<void> {
    session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
    await options.storage.set(storageKey, JSON.stringify(session));
  }

  async function clearSession(): Promise<void> {
    session = null;
    await options.storage.remove(storageKey);
  }

  async function send<T>(
    method: Method,
    path: string,
    body: unknown,
    token: string | null,
    extra?: Record<string, string>,
  ): Promise<T> {
    const headers: Record<string, string> = Object.assign({ Accept: 'application/json' }, extra);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: HttpResponse;
    try {
      response = await options.transport({ method, url: baseUrl + path, headers, body });
    } catch (error) {
      // A transport that refuses the request itself says why.
      if (error instanceof ApiError) throw error;
      throw clientError(ErrorCode.NETWORK, errorText(error) || 'network error');
    }
    return unwrap<T>(response);
  }

  function refresh(used: Session): Promise<void> {
    const moved = !session || session.accessToken !== used.accessToken;
    if (refreshing && refreshing.token === used.accessToken && (!refreshing.done || moved)) {
      return refreshing.promise;
    }
    // Another caller's refresh already replaced the token this one was sent with.
    if (session && moved) return Promise.resolve();
    const round = {
      token: used.accessToken,
      done: false,
      promise: send<Tokens>('POST', '/auth/refresh', { refreshToken: used.refreshToken }, null).then(
        (tokens) => {
          round.done = true;
          return saveTokens(tokens);
        },
        (error: unknown) => {
          // Promise.prototype.finally is missing from older mini-program base libraries.
          round.done = true;
          throw error;
        },
      ),
    };
    refreshing = round;
    return round.promise;
  }

  function signInAgain(stale: string): Promise<void> {
    const relogin = options.relogin!;
    if (relogging && relogging.token === stale) return relogging.promise;
    if (session && session.accessToken !== stale) return Promise.resolve();
    relogging = { token: stale, promise: relogin().then(() => undefined) };
    return relogging.promise;
  }

  async function request<T>(
    method: Method,
    path: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<T> {
    if (opts.auth === false) return send<T>(method, path, body, null, opts.headers);
    const used = await current();
    try {
      return await send<T>(method, path, body, used ? used.accessToken : null, opts.headers);
    } catch (error) {
      if (!used || !isCode(error, ErrorCode.ACCESS_TOKEN_EXPIRED)) throw error;
    }
    // From here on every path sends the request at most once more: no loop, whatever answers.
    try {
      await refresh(used);
    } catch (error) {
      if (!(error instanceof ApiError) || LOGIN_GONE.indexOf(error.code) < 0) throw error;
      if (session && session.accessToken === used.accessToken) await clearSession();
      // Without a silent sign-in (H5) the page decides: it gets the refresh's error.
      if (!options.relogin) throw error;
      await signInAgain(used.accessToken);
      return send<T>(method, path, body, token(), opts.headers);
    }
    const refreshed = token();
    try {
      return await send<T>(method, path, body, refreshed, opts.headers);
    } catch (error) {
      // A login ended between the refresh and the retry (logout elsewhere, disabled and enabled).
      if (!isCode(error, ErrorCode.AUTH_REQUIRED) || !options.relogin) throw error;
      await signInAgain(refreshed ?? '');
      return send<T>(method, path, body, token(), opts.headers);
    }
  }

  async function logout(allDevices?: boolean): Promise<void> {
    const used = await current();
    if (!used) return;
    const body = allDevices ? { allDevices: true } : undefined;
    try {
      try {
        await send('POST', '/auth/logout', body, used.accessToken);
      } catch (error) {
        // An expired token cannot end its login: refresh first, or the refresh token stays good.
        if (!isCode(error, ErrorCode.ACCESS_TOKEN_EXPIRED)) throw error;
        await refresh(used);
        await send('POST', '/auth/logout', body, token());
      }
    } catch (error) {
      await clearSession();
      // A login that has already ended is what logout wants; anything else the page hears of.
      if (!(error instanceof ApiError) || LOGIN_GONE.indexOf(error.code) < 0) throw error;
      return;
    }
    await clearSession();
  }

  return {
    request,
    saveTokens,
    clearSession,
    logout,
    accessToken: () => current().then(token),
  };
}

function isCode(error: unknown, code: number): boolean {
  return error instanceof ApiError && error.code === code;
}

function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error)
    return String((error as { message: unknown }).message);
  if (error && typeof error === 'object' && 'errMsg' in error)
    return String((error as { errMsg: unknown }).errMsg);
  return error === undefined ? '' : String(error);
}

/** The envelope's `data` on success; an ApiError carrying the envelope otherwise. */
export function unwrap<T>(response: HttpResponse): T {
  const body = response.body;
  if (!isEnvelope(body)) {
    throw new ApiError(
      ErrorCode.BAD_RESPONSE,
      response.status,
      `unexpected answer (HTTP ${response.status})`,
      '',
      body,
    );
  }
  if (body.code === 0 && response.status >= 200 && response.status < 300) return body.data as T;
  throw new ApiError(body.code, response.status, body.message, body.requestId, body.data ?? null);
}

interface Envelope {
  code: number;
  message: string;
  data: unknown;
  requestId: string;
}

function isEnvelope(body: unknown): body is Envelope {
  return (
    !!body &&
    typeof body === 'object' &&
    typeof (body as Envelope).code === 'number' &&
    typeof (body as Envelope).message === 'string' &&
    typeof (body as Envelope).requestId === 'string'
  );
}

/** Query string of defined values, encoded as encodeURIComponent does. */
export function query(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
