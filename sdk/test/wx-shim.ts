/**
 * The mini-program's `wx` in memory: storage, login, request, requestPayment and
 * requestSubscribeMessage, with every call recorded in `events` (in order) so tests can say what
 * the SDK did and in which order. Where a request goes is the test's choice: an in-memory handler
 * (unit tests) or HTTP to the real service (`overHttp`).
 */
import type { MiniProgramWx, PayParams } from '../miniprogram/src/index.js';

export interface ShimRequest {
  method: string;
  url: string;
  header: Record<string, string>;
  data?: unknown;
}

export interface ShimResponse {
  statusCode: number;
  data: unknown;
}

export type RequestHandler = (request: ShimRequest) => Promise<ShimResponse>;

type Callbacks<T> = { success?: (value: T) => void; fail?: (error: { errMsg: string }) => void };

export interface ShimOptions {
  handle: RequestHandler;
  /** The next wx.login code; by default `user-1`. */
  loginCode?: () => string;
  /** wx.login fails with this errMsg when set. */
  loginFails?: () => string | null;
  /** What wx.requestPayment does; succeeds by default. */
  requestPayment?: (params: PayParams) => Promise<void>;
  /** What the user answers to wx.requestSubscribeMessage; `accept` for each by default. */
  subscribeAnswer?: (tmplIds: string[]) => Record<string, string>;
}

export class WxShim implements MiniProgramWx {
  readonly storage = new Map<string, string>();
  readonly events: string[] = [];
  readonly requests: ShimRequest[] = [];

  constructor(private readonly options: ShimOptions) {}

  count(prefix: string): number {
    return this.events.filter((event) => event.startsWith(prefix)).length;
  }

  request(options: ShimRequest & Callbacks<ShimResponse>): void {
    const { success, fail, ...request } = options;
    this.requests.push(request);
    this.events.push(`request ${request.method} ${new URL(request.url).pathname}`);
    this.options.handle(request).then(
      (response) => success?.(response),
      (error: Error) => fail?.({ errMsg: `request:fail ${error.message}` }),
    );
  }

  login(options: Callbacks<{ code: string }>): void {
    this.events.push('login');
    const failure = this.options.loginFails?.();
    queueMicrotask(() => {
      if (failure) options.fail?.({ errMsg: failure });
      else options.success?.({ code: this.options.loginCode?.() ?? 'user-1' });
    });
  }

  getStorage(options: { key: string } & Callbacks<{ data: unknown }>): void {
    const value = this.storage.get(options.key);
    queueMicrotask(() => {
      if (value === undefined) options.fail?.({ errMsg: 'getStorage:fail data not found' });
      else options.success?.({ data: value });
    });
  }

  setStorage(options: { key: string; data: string } & Callbacks<unknown>): void {
    this.storage.set(options.key, options.data);
    queueMicrotask(() => options.success?.({ errMsg: 'setStorage:ok' }));
  }

  removeStorage(options: { key: string } & Callbacks<unknown>): void {
    this.storage.delete(options.key);
    queueMicrotask(() => options.success?.({ errMsg: 'removeStorage:ok' }));
  }

  requestPayment(options: PayParams & Callbacks<unknown>): void {
    const { success, fail, ...params } = options;
    this.events.push('requestPayment');
    (this.options.requestPayment ?? (() => Promise.resolve()))(params).then(
      () => success?.({ errMsg: 'requestPayment:ok' }),
      (error: Error) => fail?.({ errMsg: `requestPayment:fail ${error.message}` }),
    );
  }

  requestSubscribeMessage(options: { tmplIds: string[] } & Callbacks<Record<string, string>>): void {
    this.events.push('requestSubscribeMessage');
    const answer =
      this.options.subscribeAnswer?.(options.tmplIds) ??
      Object.fromEntries(options.tmplIds.map((id) => [id, 'accept']));
    queueMicrotask(() => options.success?.({ ...answer, errMsg: 'requestSubscribeMessage:ok' }));
  }
}

/** wx.request over real HTTP, as the mini-program runtime does it (JSON in, JSON out). */
export const overHttp: RequestHandler = async (request) => {
  const hasBody = request.data !== undefined && request.method !== 'GET';
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.header,
    body: hasBody ? JSON.stringify(request.data) : undefined,
  });
  const text = await response.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // wx.request hands non-JSON bodies over as text.
  }
  return { statusCode: response.status, data };
};

export function envelope(data: unknown, code = 0, message = 'ok'): ShimResponse {
  return {
    statusCode: code === 0 ? 200 : Math.floor(code / 100),
    data: { code, message, data, requestId: `req-${code}` },
  };
}
