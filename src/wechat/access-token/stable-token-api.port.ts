/** One answer of `stable_token`. */
export interface StableToken {
  accessToken: string;
  /** Seconds the token has left (not its full lifetime: WeChat may hand out a token it issued earlier). */
  expiresIn: number;
}

export interface StableTokenRequest {
  /** Asks WeChat for a new token at once, which ends the current one (WeChat allows 20 a day). */
  forceRefresh: boolean;
  /** epoch ms by which the fetch, retries included, must be over. */
  deadline: number;
}

/**
 * WeChat's `stable_token` for one account (app id and secret are the adapter's, never the
 * caller's), so AccessTokenProvider keeps the token rules for any account: the mini-program's
 * today, an official account's next. Failures are AppErrors with the contract's codes, as for every
 * WeChat call: an errcode as wechatError() maps it, WECHAT_TIMEOUT once the deadline has passed.
 */
export abstract class StableTokenApi {
  abstract fetchStableToken(request: StableTokenRequest): Promise<StableToken>;
}
