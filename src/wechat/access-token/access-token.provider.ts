import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TOKEN_ERRCODES } from '../wechat-errors.js';
import type { AccessTokenStore, CachedAccessToken } from './access-token-store.port.js';
import { StableTokenApi } from './stable-token-api.port.js';

export interface AccessTokenProviderOptions {
  /** The time limit of one operation needing the token (WECHAT_TIMEOUT_MS). */
  timeoutMs: number;
  /**
   * What the provider holds, for its log lines and metrics: an app's access token (the default;
   * lock waits are measured in wechat_access_token_lock_wait_seconds) or the official account's
   * jsapi_ticket, which rides the same rules.
   */
  holds?: 'access token' | 'jsapi_ticket';
  /** Names the app in log lines ("mini-program", "official account"). */
  app?: string;
}

const FORCE_REFRESH_INTERVAL_MS = 30_000;
/** How often a caller waiting for another's fetch tries the lock again. */
const LOCK_RETRY_MS = 200;
/** WeChat hands out a new stable token 5 minutes before the old one expires. */
const RENEWAL_WINDOW_S = 300;

/**
 * The access token of one WeChat account: fetched through that account's StableTokenApi
 * (stable_token only), kept in a store of its own (in Redis, under the account's namespace), so the
 * provider itself knows no app id. Cached in the store until shortly before it expires; one fetcher
 * at a time across every caller that shares the store (a single flight in this process, a lock with
 * an owner and an expiry in the store), the others wait for the token to be stored.
 * `force_refresh` only when WeChat hands back the very token that just failed, and at most once per
 * 30 s (WeChat allows 20 a day).
 *
 * Each app has an instance of its own (WechatModule builds them: the mini-program's, the official
 * account's), and so has the official account's jsapi_ticket, whose StableTokenApi is getticket:
 * the same caching, lock and waiting, with no force_refresh since nothing ever reports a ticket
 * refused.
 */
export class AccessTokenProvider {
  private readonly logger: Logger;
  private inflight: Promise<string> | null = null;
  /** A crashed holder delays the others by at most this (docs/api.md: timeout + 2 s at most). */
  private readonly lockTtlMs: number;
  private readonly holds: 'access token' | 'jsapi_ticket';

  constructor(
    private readonly api: StableTokenApi,
    private readonly store: AccessTokenStore,
    private readonly metrics: MetricsService,
    { timeoutMs, holds = 'access token', app }: AccessTokenProviderOptions,
  ) {
    this.lockTtlMs = timeoutMs + 2000;
    this.holds = holds;
    const context = holds === 'access token' ? 'AccessToken' : 'JsapiTicket';
    this.logger = new Logger(app ? `${context} (${app})` : context);
  }

  /** A usable token; `failed` is one that WeChat just refused, which must not be handed back. */
  async getToken(deadline: number, failed?: string): Promise<string> {
    const cached = await this.store.get();
    if (cached && cached.token !== failed && cached.refreshAt > Date.now()) return cached.token;
    // Single flight: concurrent callers of this process share one trip to the store's lock.
    this.inflight ??= this.obtain(deadline, failed).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * `call` with a token. On 40001 / 40014 / 42001 the token is dropped (only if it is still the
   * cached one), a fresh one obtained, and the call repeated once — never in a loop.
   */
  async withToken<T extends { errcode?: number }>(
    deadline: number,
    call: (token: string) => Promise<T>,
  ): Promise<T> {
    const token = await this.getToken(deadline);
    const answer = await call(token);
    if (!TOKEN_ERRCODES.has(answer.errcode ?? 0)) return answer;
    await this.store.dropIfCurrent(token);
    return call(await this.getToken(deadline, token));
  }

  private async obtain(deadline: number, failed?: string): Promise<string> {
    const owner = randomUUID();
    const waitStarted = performance.now();
    for (;;) {
      if (await this.store.tryLock(owner, this.lockTtlMs)) {
        try {
          // Someone may have stored a token while this caller waited for the lock.
          const cached = await this.store.get();
          if (cached && cached.token !== failed && cached.refreshAt > Date.now()) return cached.token;
          const fresh = await this.fetch(deadline, failed);
          await this.store.set(fresh);
          return fresh.token;
        } finally {
          await this.store.unlock(owner);
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.gaveUp(waitStarted);
      // Waited in short slices: a crashed holder's lock is taken over soon after it expires,
      // not after a whole wait for a token that will never be stored.
      const stored = await this.store.waitForToken(Math.min(remaining, LOCK_RETRY_MS));
      if (stored && stored.token !== failed) {
        this.observeLockWait(waitStarted);
        return stored.token;
      }
      // Nothing stored yet: the holder is still fetching, failed or crashed; try the lock again.
      if (Date.now() >= deadline) throw this.gaveUp(waitStarted);
    }
  }

  private gaveUp(waitStarted: number): AppError {
    this.observeLockWait(waitStarted);
    return new AppError(ErrorCode.WECHAT_TIMEOUT);
  }

  private observeLockWait(waitStarted: number): void {
    if (this.holds === 'access token') {
      this.metrics.accessTokenLockWaits.observe((performance.now() - waitStarted) / 1000);
    }
  }

  private async fetch(deadline: number, failed?: string): Promise<CachedAccessToken> {
    let answer = await this.stableToken(deadline, false);
    // `failed` is what this caller saw refused; the store knows what any caller, on any instance,
    // saw refused (this fetch may have been started by a caller that had not met the refusal yet).
    if (answer.token === failed || (await this.store.wasRefused(answer.token))) {
      // WeChat still hands out the token it refuses: only force_refresh replaces it.
      if (!(await this.store.tryClaimForceRefresh(FORCE_REFRESH_INTERVAL_MS))) {
        this.logger.warn('access token refused but force_refresh was used less than 30 s ago');
        throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat access token unavailable', {
          data: { wechatErrcode: 40001 },
        });
      }
      this.logger.warn('access token refused by WeChat and handed back unchanged: force_refresh');
      answer = await this.stableToken(deadline, true);
    }
    return answer;
  }

  private async stableToken(deadline: number, forceRefresh: boolean): Promise<CachedAccessToken> {
    const { accessToken, expiresIn } = await this.api.fetchStableToken({ forceRefresh, deadline });
    // expires_in is the *remaining* lifetime. Refresh when WeChat starts renewing (5 minutes before
    // expiry); a token handed out inside that window is kept for half of what it has left.
    const keepFor =
      expiresIn > RENEWAL_WINDOW_S + 60 ? expiresIn - RENEWAL_WINDOW_S : Math.max(1, expiresIn / 2);
    return { token: accessToken, refreshAt: Date.now() + keepFor * 1000 };
  }
}
