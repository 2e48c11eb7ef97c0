import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AppConfig } from '../../config/app-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WechatHttp } from '../live/wechat-http.js';
import { wechatError } from '../wechat-errors.js';
import {
  ACCESS_TOKEN_STORE,
  type AccessTokenStore,
  type CachedAccessToken,
} from './access-token-store.port.js';

const FORCE_REFRESH_INTERVAL_MS = 30_000;
/** How often a caller waiting for another's fetch tries the lock again. */
const LOCK_RETRY_MS = 200;
/** WeChat hands out a new stable token 5 minutes before the old one expires. */
const RENEWAL_WINDOW_S = 300;

/**
 * The WeChat access token, from `stable_token` only (never /cgi-bin/token, which would invalidate
 * the copies other services of the same app hold). Cached in the store until shortly before it
 * expires; one fetcher at a time across every caller that shares the store (a single flight in
 * this process, a lock with an owner and an expiry in the store), the others wait for the token to
 * be stored. `force_refresh` only when WeChat hands back the very token that just failed, and at
 * most once per 30 s (WeChat allows 20 a day).
 */
@Injectable()
export class AccessTokenProvider {
  private readonly logger = new Logger('AccessToken');
  private inflight: Promise<string> | null = null;
  private readonly appId: string;
  private readonly appSecret: string;
  /** A crashed holder delays the others by at most this (docs/api.md: timeout + 2 s at most). */
  private readonly lockTtlMs: number;

  constructor(
    @Inject(ACCESS_TOKEN_STORE) private readonly store: AccessTokenStore,
    private readonly http: WechatHttp,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const wechat = config.get('wechat', { infer: true });
    this.appId = wechat.appId;
    this.appSecret = wechat.appSecret;
    this.lockTtlMs = wechat.timeoutMs + 2000;
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

  /** After WeChat refused `token` (40001 / 40014 / 42001): forget it, unless a newer one is already there. */
  invalidate(token: string): Promise<void> {
    return this.store.dropIfCurrent(token);
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
        this.metrics.accessTokenLockWaits.observe((performance.now() - waitStarted) / 1000);
        return stored.token;
      }
      // Nothing stored yet: the holder is still fetching, failed or crashed; try the lock again.
      if (Date.now() >= deadline) throw this.gaveUp(waitStarted);
    }
  }

  private gaveUp(waitStarted: number): AppError {
    this.metrics.accessTokenLockWaits.observe((performance.now() - waitStarted) / 1000);
    return new AppError(ErrorCode.WECHAT_TIMEOUT);
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
    const answer = await this.http.call({
      api: 'stable_token',
      method: 'POST',
      path: '/cgi-bin/stable_token',
      body: {
        grant_type: 'client_credential',
        appid: this.appId,
        secret: this.appSecret,
        force_refresh: forceRefresh,
      },
      deadline,
    });
    const token = answer.access_token;
    const expiresIn = Number(answer.expires_in);
    if (answer.errcode || typeof token !== 'string' || !token || !(expiresIn > 0)) {
      this.metrics.accessTokenFetches.inc({ result: 'error' });
      throw wechatError('stable_token', answer.errcode ?? 0);
    }
    this.metrics.accessTokenFetches.inc({ result: forceRefresh ? 'forced' : 'ok' });
    // expires_in is the *remaining* lifetime. Refresh when WeChat starts renewing (5 minutes before
    // expiry); a token handed out inside that window is kept for half of what it has left.
    const keepFor =
      expiresIn > RENEWAL_WINDOW_S + 60 ? expiresIn - RENEWAL_WINDOW_S : Math.max(1, expiresIn / 2);
    return { token, refreshAt: Date.now() + keepFor * 1000 };
  }
}
