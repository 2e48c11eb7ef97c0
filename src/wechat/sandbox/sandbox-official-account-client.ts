import { createHash } from 'node:crypto';
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
import {
  askedErrcode,
  sandboxOfficialOpenid,
  sandboxUnionid,
  type OAuthScope,
} from './sandbox-identities.js';

const TICKET_DEADLINE_MS = 5000;

/**
 * The official account in process (WECHAT_MODE=sandbox), deterministic, for trying the web sign-in,
 * the JS-SDK, menus and messages without WeChat (README, "Sandbox"):
 * - an OAuth code `alice` signs in as OA openid sandboxOfficialOpenid("alice") with snsapi_base (no
 *   unionid in the grant, as WeChat); `userinfo:alice` with snsapi_userinfo: the grant carries the
 *   unionid the mini-program sandbox gives the wx.login code `alice`, and /sns/userinfo the nickname
 *   `alice`; `snapshot:alice` is a snapshot-page virtual user;
 * - every openid follows the account, with the unionid derived from it;
 * - `errcode:<N>` as an OAuth code, template id, customer-service text or button name fails the call
 *   with errcode N (e.g. `errcode:40163`, `errcode:43004`, `errcode:45015`, `errcode:40018`);
 * - the menu is kept in process memory; template messages answer a msgid derived from client_msg_id,
 *   so a retried send answers the same one.
 */
export class SandboxOfficialAccountClient implements OfficialAccountClient {
  readonly appId: string;
  private menu: OfficialMenuState = { isMenuOpen: false, button: [] };

  constructor(
    official: { appId: string },
    private readonly tickets: AccessTokenProvider,
  ) {
    this.appId = official.appId;
  }

  async exchangeOAuthCode(code: string): Promise<OAuthGrant> {
    this.failIfAsked('oauth_access_token', code);
    const [kind, ...rest] = code.split(':');
    const named = rest.length > 0 && (kind === 'userinfo' || kind === 'snapshot');
    const name = named ? rest.join(':') : code;
    const scope: OAuthScope = named && kind === 'userinfo' ? 'snsapi_userinfo' : 'snsapi_base';
    const openid = sandboxOfficialOpenid(name);
    return {
      openid,
      scope,
      unionid: scope === 'snsapi_userinfo' ? sandboxUnionid(openid) : undefined,
      isSnapshotUser: named && kind === 'snapshot',
      userAccessToken: `sbx_uat_${Buffer.from(JSON.stringify({ n: name, s: scope })).toString('base64url')}`,
    };
  }

  async getOAuthUserInfo(userAccessToken: string, openid: string): Promise<OAuthUserInfo> {
    const grant = readUserToken(userAccessToken);
    if (!grant || typeof grant.n !== 'string' || sandboxOfficialOpenid(grant.n) !== openid) {
      throw officialError('sns_userinfo', 40001);
    }
    if (grant.s !== 'snsapi_userinfo') throw officialError('sns_userinfo', 48001);
    const avatar = createHash('sha256').update(`avatar:${openid}`).digest('hex').slice(0, 16);
    return {
      openid,
      nickname: grant.n,
      headimgurl: `https://thirdwx.qlogo.cn/mmopen/sandbox/${avatar}/132`,
      unionid: sandboxUnionid(openid),
    };
  }

  async getFollower(openid: string): Promise<FollowerInfo> {
    return {
      openid,
      subscribed: true,
      unionid: sandboxUnionid(openid),
      subscribeTime: Math.floor(Date.now() / 1000),
    };
  }

  getJsapiTicket(): Promise<string> {
    return this.tickets.getToken(Date.now() + TICKET_DEADLINE_MS);
  }

  async createMenu(menu: OfficialMenu): Promise<void> {
    const names = menu.button.flatMap((button) => [
      button.name,
      ...(Array.isArray(button.sub_button) ? (button.sub_button as Array<Record<string, unknown>>) : []).map(
        (sub) => sub.name,
      ),
    ]);
    for (const name of names) if (typeof name === 'string') this.failIfAsked('menu_create', name);
    this.menu = { isMenuOpen: true, button: structuredClone(menu.button) };
  }

  async getMenu(): Promise<OfficialMenuState> {
    return structuredClone(this.menu);
  }

  async sendTemplateMessage(message: TemplateMessage): Promise<{ msgId: string }> {
    this.failIfAsked('template_send', message.templateId);
    const digest = createHash('sha256').update(`${message.touser}:${message.clientMsgId}`).digest();
    return { msgId: String(digest.readUInt32BE(0) * 1000 + (digest[4] % 1000)) };
  }

  async sendCustomText(_openid: string, text: string): Promise<void> {
    this.failIfAsked('custom_send', text);
  }

  private failIfAsked(api: string, value: string): void {
    const errcode = askedErrcode(value);
    if (errcode !== null) throw officialError(api, errcode, `sandbox: errcode ${errcode} as asked`);
  }
}

/** The grant a sandbox user token stands for (it is the grant itself, encoded), or null. */
function readUserToken(token: string): { n?: unknown; s?: unknown } | null {
  try {
    const json = Buffer.from(token.replace(/^sbx_uat_/, ''), 'base64url').toString('utf8');
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as { n?: unknown; s?: unknown }) : null;
  } catch {
    return null;
  }
}
