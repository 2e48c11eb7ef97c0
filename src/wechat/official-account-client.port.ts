/**
 * What the service needs from WeChat for the official account (OA), the second WeChat app beside
 * the mini-program: its own app id, secret and access token (stable_token, cached and shared apart
 * from the mini-program's), and openids of its own. Adapters: live (HTTP to WECHAT_API_BASE_URL) and
 * sandbox (in-process), by WECHAT_MODE; the token is bound to null when WECHAT_OA_APP_ID is unset
 * (every OA route then answers 404 / 40400).
 *
 * Failures are AppErrors with the contract's codes: 40001 (OAuth code invalid or used: 40029 /
 * 40163), 40007 (content refused: 40016–40027, 40037, 40054, 40055, 41030, 47001, 47003; data
 * { wechatErrcode, wechatErrmsg }), 40922 (43004, not a follower), 40923 (45015 / 45047, window
 * closed), otherwise as every WeChat call (50200, 50300 breaker, 50400 timeout, 42900 quota).
 */
export const WECHAT_OFFICIAL_CLIENT = Symbol('WECHAT_OFFICIAL_CLIENT');

export interface OAuthGrant {
  openid: string;
  scope: string;
  unionid?: string;
  /** `is_snapshotuser: 1`: a virtual user of the snapshot page, never signed in. */
  isSnapshotUser: boolean;
  /** The user's own OAuth token: used for /sns/userinfo at once, never stored. */
  userAccessToken: string;
}

export interface OAuthUserInfo {
  openid: string;
  nickname?: string;
  headimgurl?: string;
  unionid?: string;
}

export interface FollowerInfo {
  openid: string;
  subscribed: boolean;
  unionid?: string;
  /** Unix seconds. */
  subscribeTime?: number;
}

/** A menu as WeChat's menu/create takes it (validated by the caller). */
export interface OfficialMenu {
  button: Array<Record<string, unknown>>;
}

/** The menu as WeChat has it now: `sub_button` a list again, other fields as WeChat gives them. */
export interface OfficialMenuState {
  isMenuOpen: boolean;
  button: Array<Record<string, unknown>>;
}

export interface TemplateMessage {
  touser: string;
  templateId: string;
  data: Record<string, { value: string }>;
  url?: string;
  miniprogram?: { appid: string; pagepath: string };
  /** Unique to the admin request, reused by its retries (WeChat sends one per openid + id in 10 min). */
  clientMsgId: string;
}

export interface OfficialAccountClient {
  readonly appId: string;
  /** GET /sns/oauth2/access_token (app secret, no access token). */
  exchangeOAuthCode(code: string): Promise<OAuthGrant>;
  /** GET /sns/userinfo with the user's OAuth token (snsapi_userinfo only). */
  getOAuthUserInfo(userAccessToken: string, openid: string): Promise<OAuthUserInfo>;
  /** GET /cgi-bin/user/info */
  getFollower(openid: string): Promise<FollowerInfo>;
  /**
   * The jsapi_ticket: cached until 5 minutes before its expires_in and shared, one fetcher at a time
   * across instances, exactly like the access token (GET /cgi-bin/ticket/getticket?type=jsapi).
   */
  getJsapiTicket(): Promise<string>;
  /** POST /cgi-bin/menu/create */
  createMenu(menu: OfficialMenu): Promise<void>;
  /** GET /cgi-bin/get_current_selfmenu_info, sub_button.list turned back into sub_button. */
  getMenu(): Promise<OfficialMenuState>;
  /** POST /cgi-bin/message/template/send → WeChat's msgid as a string. */
  sendTemplateMessage(message: TemplateMessage): Promise<{ msgId: string }>;
  /** POST /cgi-bin/message/custom/send, msgtype text. */
  sendCustomText(openid: string, text: string): Promise<void>;
}
