/**
 * WeChat's token side in this process, for unit tests of AccessTokenProvider: a StableTokenApi with
 * the fake WeChat's token rules (fake-wechat-tokens.ts), and `callWithToken` for a WeChat call
 * carrying access_token (getuserphonenumber and the like). Every fetch and call is recorded, and a
 * test orders events: hold a fetch, answer an errcode, act before answering.
 *
 *   const wechat = new InMemoryStableTokenApi();
 *   const provider = new AccessTokenProvider(wechat, store, metrics, { timeoutMs: 3000 });
 *   const release = wechat.hold();                  // the next fetch waits for release()
 *   wechat.nextCall({ errcode: 40029 });            // the next call answers 40029
 *   wechat.revokeToken(40001);                      // the current token stops working
 */
import { EventEmitter } from 'node:events';
import { AppError } from '../../src/common/errors/app-error.js';
import { ErrorCode } from '../../src/common/errors/error-code.js';
import {
  StableTokenApi,
  type StableToken,
  type StableTokenRequest,
} from '../../src/wechat/access-token/stable-token-api.port.js';
import { wechatError } from '../../src/wechat/wechat-errors.js';
import { FakeWechatTokens } from './fake-wechat-tokens.js';

export interface StableTokenFetch {
  forceRefresh: boolean;
  /** performance.now() when the fetch came in (not Date.now(), which tests move). */
  at: number;
}

/** What the next fetch does instead of answering at once. */
export type FetchStep =
  /** Fails as the live adapter fails on this errcode. */
  | { errcode: number }
  /** Answers once the promise resolves; WECHAT_TIMEOUT if the fetch's deadline comes first. */
  | { until: Promise<void> };

/** What the next call carrying access_token does instead of (or before) answering normally. */
export type CallStep =
  | { errcode: number }
  /** Runs before the answer is computed (e.g. another instance acting meanwhile). */
  | { before: () => void | Promise<void> };

export class InMemoryStableTokenApi extends StableTokenApi {
  readonly fetches: StableTokenFetch[] = [];
  /** The access_token of every callWithToken(), in order. */
  readonly tokensUsed: string[] = [];

  private readonly tokens = new FakeWechatTokens();
  private readonly fetchSteps: FetchStep[] = [];
  private readonly callSteps: CallStep[] = [];
  private readonly events = new EventEmitter().setMaxListeners(0);

  /** Lifetime of a new token, seconds (WeChat: 7200). */
  set tokenLifetimeSec(seconds: number) {
    this.tokens.lifetimeSec = seconds;
  }

  /** The token a normal fetch hands out now (undefined before the first one). */
  get currentToken(): string | undefined {
    return this.tokens.currentToken;
  }

  /** The forceRefresh flag of every fetch, in order. */
  forceFlags(): boolean[] {
    return this.fetches.map((fetch) => fetch.forceRefresh);
  }

  /** Resolves once `count` fetches have come in, in all. */
  waitForFetches(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.fetches.length < count) return;
        this.events.off('fetch', check);
        resolve();
      };
      this.events.on('fetch', check);
      check();
    });
  }

  /** Scripts the next `times` fetches. */
  nextFetch(step: FetchStep, times = 1): void {
    for (let i = 0; i < times; i++) this.fetchSteps.push(step);
  }

  /** The next fetch waits until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.nextFetch({ until: new Promise<void>((resolve) => (release = resolve)) });
    return release;
  }

  /** Scripts the next `times` calls carrying access_token. */
  nextCall(step: CallStep, times = 1): void {
    for (let i = 0; i < times; i++) this.callSteps.push(step);
  }

  /** See FakeWechatTokens.revoke. */
  revokeToken(errcode = 40001, rotate = errcode === 42001): string | undefined {
    return this.tokens.revoke(errcode, rotate);
  }

  /** See FakeWechatTokens.issueElsewhere. */
  issueElsewhere(): string {
    return this.tokens.issueElsewhere();
  }

  async fetchStableToken({ forceRefresh, deadline }: StableTokenRequest): Promise<StableToken> {
    // As the live adapter: no call at all once the deadline has passed.
    if (deadline - Date.now() <= 0) throw new AppError(ErrorCode.WECHAT_TIMEOUT);
    this.fetches.push({ forceRefresh, at: performance.now() });
    this.events.emit('fetch');
    const step = this.fetchSteps.shift();
    if (step && 'errcode' in step) throw wechatError('stable_token', step.errcode);
    if (step && 'until' in step) await untilOrDeadline(step.until, deadline);
    const answer = this.tokens.fetch(forceRefresh);
    return { accessToken: answer.access_token, expiresIn: answer.expires_in };
  }

  /** A WeChat call carrying `token`: `errcode` 0 when WeChat takes it, else what WeChat answers. */
  async callWithToken(token: string): Promise<{ errcode: number }> {
    this.tokensUsed.push(token);
    const step = this.callSteps.shift();
    if (step && 'errcode' in step) return { errcode: step.errcode };
    if (step && 'before' in step) await step.before();
    return { errcode: this.tokens.errcodeFor(token) };
  }
}

function untilOrDeadline(until: Promise<void>, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AppError(ErrorCode.WECHAT_TIMEOUT)),
      Math.max(0, deadline - Date.now()),
    );
    void until.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
