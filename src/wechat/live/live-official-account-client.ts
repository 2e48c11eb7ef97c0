import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AccessTokenProvider } from '../access-token/access-token.provider.js';
import type {
  FollowerInfo,
  OAuthGrant,
  OAuthUserInfo,
  OfficialAccountClient,
  OfficialMenu,
  OfficialMenuState,
  TemplateMessage,
} from '../official-account-client.port.js';
import { officialError } from '../wechat-errors.js';
import { WechatHttp, type WechatAnswer, type WechatRequest } from './wechat-http.js';

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * The official account over HTTP to WECHAT_API_BASE_URL, on the transport the mini-program uses (its
 * deadline, busy retries, circuit breaker and wechat_calls_total, each call with an `api` of its own),
 * with the official account's own access token and jsapi_ticket (AccessTokenProviders of their own,
 * apart from the mini-program's). Every errcode becomes the contract's code (officialError).
 */
export class LiveOfficialAccountClient implements OfficialAccountClient {
  readonly appId: string;
  private readonly appSecret: string;

  constructor(
    private readonly http: WechatHttp,
    private readonly tokens: AccessTokenProvider,
    private readonly tickets: AccessTokenProvider,
    official: { appId: string; appSecret: string },
  ) {
    this.appId = official.appId;
    this.appSecret = official.appSecret;
  }

  async exchangeOAuthCode(code: string): Promise<OAuthGrant> {
    const answer = await this.http.call({
      api: 'oauth_access_token',
      method: 'GET',
      path: '/sns/oauth2/access_token',
      query: { appid: this.appId, secret: this.appSecret, code, grant_type: 'authorization_code' },
      deadline: this.http.deadline(),
    });
    if (answer.errcode) throw officialError('oauth_access_token', answer.errcode, answer.errmsg);
    const openid = text(answer.openid);
    const userAccessToken = text(answer.access_token);
    if (!openid || !userAccessToken) {
      throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat answered without openid or access_token');
    }
    return {
      openid,
      scope: text(answer.scope) ?? '',
      unionid: text(answer.unionid),
      isSnapshotUser: Number(answer.is_snapshotuser) === 1,
      userAccessToken,
    };
  }

  async getOAuthUserInfo(userAccessToken: string, openid: string): Promise<OAuthUserInfo> {
    // The user's own token, not the account's: no compare-and-drop, nothing to refresh.
    const answer = await this.http.call({
      api: 'sns_userinfo',
      method: 'GET',
      path: '/sns/userinfo',
      query: { access_token: userAccessToken, openid, lang: 'zh_CN' },
      deadline: this.http.deadline(),
    });
    if (answer.errcode) throw officialError('sns_userinfo', answer.errcode, answer.errmsg);
    if (answer.openid !== openid) {
      throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat answered user info for another openid');
    }
    return {
      openid,
      nickname: text(answer.nickname),
      headimgurl: text(answer.headimgurl),
      unionid: text(answer.unionid),
    };
  }

  async getFollower(openid: string): Promise<FollowerInfo> {
    const answer = await this.withAccessToken({
      api: 'user_info',
      method: 'GET',
      path: '/cgi-bin/user/info',
      query: { openid, lang: 'zh_CN' },
    });
    if (answer.errcode) throw officialError('user_info', answer.errcode, answer.errmsg);
    const subscribeTime = Number(answer.subscribe_time);
    return {
      openid,
      subscribed: Number(answer.subscribe) === 1,
      unionid: text(answer.unionid),
      subscribeTime: Number.isInteger(subscribeTime) && subscribeTime > 0 ? subscribeTime : undefined,
    };
  }

  getJsapiTicket(): Promise<string> {
    return this.tickets.getToken(this.http.deadline());
  }

  async createMenu(menu: OfficialMenu): Promise<void> {
    const answer = await this.withAccessToken({
      api: 'menu_create',
      method: 'POST',
      path: '/cgi-bin/menu/create',
      body: { button: menu.button },
    });
    if (answer.errcode) throw officialError('menu_create', answer.errcode, answer.errmsg);
  }

  async getMenu(): Promise<OfficialMenuState> {
    const answer = await this.withAccessToken({
      api: 'menu_get',
      method: 'GET',
      path: '/cgi-bin/get_current_selfmenu_info',
    });
    if (answer.errcode) throw officialError('menu_get', answer.errcode, answer.errmsg);
    return menuFromWechat(answer);
  }

  async sendTemplateMessage(message: TemplateMessage): Promise<{ msgId: string }> {
    const answer = await this.withAccessToken({
      api: 'template_send',
      method: 'POST',
      path: '/cgi-bin/message/template/send',
      body: {
        touser: message.touser,
        template_id: message.templateId,
        url: message.url,
        miniprogram: message.miniprogram,
        client_msg_id: message.clientMsgId,
        data: message.data,
      },
      integerStrings: ['msgid'],
    });
    if (answer.errcode) throw officialError('template_send', answer.errcode, answer.errmsg);
    const msgId = answer.msgid;
    if ((typeof msgId !== 'string' || !/^\d+$/.test(msgId)) && typeof msgId !== 'number') {
      throw new AppError(ErrorCode.WECHAT_ERROR, 'WeChat answered without msgid');
    }
    return { msgId: String(msgId) };
  }

  async sendCustomText(openid: string, content: string): Promise<void> {
    const answer = await this.withAccessToken({
      api: 'custom_send',
      method: 'POST',
      path: '/cgi-bin/message/custom/send',
      body: { touser: openid, msgtype: 'text', text: { content } },
    });
    if (answer.errcode) throw officialError('custom_send', answer.errcode, answer.errmsg);
  }

  /** A call carrying the official account's access_token, repeated once when WeChat refuses it. */
  private withAccessToken(
    request: Omit<WechatRequest, 'deadline' | 'query'> & { query?: Record<string, string> },
  ): Promise<WechatAnswer> {
    const deadline = this.http.deadline();
    return this.tokens.withToken(deadline, (token) =>
      this.http.call({ ...request, query: { ...request.query, access_token: token }, deadline }),
    );
  }
}

/**
 * get_current_selfmenu_info's answer as the admin API gives it: `sub_button: { list: [...] }` back
 * to `sub_button: [...]`; every other field (those of buttons made in the OA admin: text, img, news
 * types with `value` or `news_info`) exactly as WeChat gives it.
 */
export function menuFromWechat(answer: Record<string, unknown>): OfficialMenuState {
  const info = answer.selfmenu_info as { button?: unknown } | undefined;
  const buttons = Array.isArray(info?.button) ? (info.button as unknown[]) : [];
  return {
    isMenuOpen: Number(answer.is_menu_open) === 1,
    button: buttons
      .filter((button): button is Record<string, unknown> => typeof button === 'object' && button !== null)
      .map((button) => {
        const sub = button.sub_button as { list?: unknown } | undefined;
        if (sub === undefined || Array.isArray(sub) || typeof sub !== 'object' || sub === null) return button;
        return { ...button, sub_button: Array.isArray(sub.list) ? sub.list : [] };
      }),
  };
}
