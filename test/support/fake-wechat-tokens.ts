/**
 * WeChat's stable access tokens, as the test stand-ins hand them out (the fake WeChat HTTP API and
 * the in-memory StableTokenApi share these rules, so the two cannot drift apart). After WeChat's
 * documentation of stable_token:
 * - a normal fetch hands out the current token with what it has left; from 5 minutes before it
 *   expires, a new one (the old one keeps working until it expires);
 * - force_refresh hands out a new one at once, and the old one stops working;
 * - a test can make the current token fail (`revoke`), with or without a new one on the next fetch.
 */
import { randomBytes } from 'node:crypto';

/** WeChat hands out a new stable token this long before the current one expires. */
const RENEWAL_WINDOW_MS = 300_000;

interface TokenState {
  token: string;
  expiresAt: number;
  /** Set once the token stops working: calls carrying it answer this errcode. */
  revokedWith?: number;
}

export class FakeWechatTokens {
  private current: TokenState | undefined;
  private readonly issued = new Map<string, TokenState>();
  private forced = 0;

  /** `lifetimeSec`: what a new token has (WeChat: 7200). */
  constructor(public lifetimeSec = 7200) {}

  /** The token a normal fetch hands out now (undefined before the first fetch). */
  get currentToken(): string | undefined {
    return this.current?.token;
  }

  /** Number of `force_refresh: true` fetches answered. */
  get forceRefreshCount(): number {
    return this.forced;
  }

  /** What stable_token answers now. */
  fetch(forceRefresh: boolean): { access_token: string; expires_in: number } {
    const now = Date.now();
    if (forceRefresh) {
      this.forced++;
      if (this.current) this.current.revokedWith ??= 40001;
      this.issue();
    } else if (!this.current || this.current.expiresAt - now <= RENEWAL_WINDOW_MS) {
      this.issue();
    }
    const state = this.current!;
    return {
      access_token: state.token,
      expires_in: Math.max(1, Math.floor((state.expiresAt - now) / 1000)),
    };
  }

  /**
   * The current token fails from now on: calls carrying it answer `errcode` (40001 / 40014 /
   * 42001). With `rotate` (the default for 42001) the next normal fetch hands out a new token;
   * without it WeChat keeps handing out the failing one until `force_refresh: true` (both happen).
   * Returns the token that fails.
   */
  revoke(errcode = 40001, rotate = errcode === 42001): string | undefined {
    const revoked = this.current;
    if (!revoked) return undefined;
    revoked.revokedWith = errcode;
    if (rotate) this.current = undefined;
    return revoked.token;
  }

  /**
   * A token fetched by someone else (another service of the same app, with force_refresh): the
   * current one fails from now on. Returns the new token.
   */
  issueElsewhere(): string {
    if (this.current) this.current.revokedWith ??= 40001;
    return this.issue().token;
  }

  /** 0 when a call carrying `token` goes ahead, else the errcode WeChat answers it. */
  errcodeFor(token: string | undefined): number {
    if (!token) return 41001;
    const state = this.issued.get(token);
    if (!state) return 40001;
    if (state.revokedWith) return state.revokedWith;
    if (state.expiresAt <= Date.now()) return 42001;
    return 0;
  }

  private issue(): TokenState {
    const state = {
      token: `ACCESS_TOKEN_${randomBytes(24).toString('base64url')}`,
      expiresAt: Date.now() + this.lifetimeSec * 1000,
    };
    this.current = state;
    this.issued.set(state.token, state);
    return state;
  }
}
