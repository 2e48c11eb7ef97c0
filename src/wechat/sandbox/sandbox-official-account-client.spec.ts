import { failure } from '../../../test/support/app-errors.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { AccessTokenProvider } from '../access-token/access-token.provider.js';
import { MemoryAccessTokenStore } from '../access-token/memory-access-token-store.js';
import { SandboxJsapiTicketApi } from './sandbox-jsapi-ticket-api.js';
import { sandboxOAuthCode, sandboxOfficialOpenid, sandboxUnionid } from './sandbox-identities.js';
import { SandboxOfficialAccountClient } from './sandbox-official-account-client.js';
import { SandboxWechatClient } from './sandbox-wechat-client.js';

// The README's promises about the sandbox official account.

describe('SandboxOfficialAccountClient', () => {
  const official = { appId: 'wxsandbox0a0000000' };
  const metrics = new MetricsService();
  const tickets = new AccessTokenProvider(
    new SandboxJsapiTicketApi(official, metrics),
    new MemoryAccessTokenStore(),
    metrics,
    { timeoutMs: 1000, holds: 'jsapi_ticket' },
  );
  const client = new SandboxOfficialAccountClient(official, tickets);
  const miniProgram = new SandboxWechatClient({ appId: 'wxsandbox000000000' });

  it('makes the same person of code "alice" in both apps: two openids, one unionid', async () => {
    const login = await miniProgram.code2Session('alice');
    const base = await client.exchangeOAuthCode('alice');
    expect(base).toMatchObject({
      openid: sandboxOfficialOpenid('alice'),
      scope: 'snsapi_base',
      isSnapshotUser: false,
    });
    expect(base.unionid).toBeUndefined();
    expect(base.openid).not.toBe(login.openid);

    const userinfo = await client.exchangeOAuthCode(sandboxOAuthCode('alice', 'snsapi_userinfo'));
    expect(userinfo).toMatchObject({ openid: base.openid, scope: 'snsapi_userinfo', unionid: login.unionid });
    expect(await client.getOAuthUserInfo(userinfo.userAccessToken, userinfo.openid)).toMatchObject({
      nickname: 'alice',
      unionid: login.unionid,
    });
    expect((await client.getFollower(base.openid)).unionid).toBe(sandboxUnionid(base.openid));
    expect(sandboxUnionid(base.openid)).toBe(login.unionid);
  });

  it('has snapshot users, refuses userinfo for snsapi_base, and fails with an errcode on demand', async () => {
    expect((await client.exchangeOAuthCode('snapshot:bob')).isSnapshotUser).toBe(true);
    const base = await client.exchangeOAuthCode('bob');
    const refused = await failure(client.getOAuthUserInfo(base.userAccessToken, base.openid));
    expect(refused.data).toEqual({ wechatErrcode: 48001 });
    expect((await failure(client.exchangeOAuthCode('errcode:40163'))).code).toBe(
      ErrorCode.WECHAT_CODE_INVALID,
    );
    expect((await failure(client.sendCustomText(base.openid, 'errcode:45015'))).code).toBe(
      ErrorCode.SERVICE_WINDOW_CLOSED,
    );
    const templated = { touser: base.openid, data: {}, clientMsgId: 'c' };
    expect(
      (await failure(client.sendTemplateMessage({ ...templated, templateId: 'errcode_43004' }))).code,
    ).toBe(ErrorCode.NOT_A_FOLLOWER);
    const menu = { button: [{ type: 'click', name: 'errcode:40018', key: 'k' }] };
    expect((await failure(client.createMenu(menu))).code).toBe(ErrorCode.WECHAT_CONTENT_REFUSED);
  });

  it('keeps the menu, answers one msgid per client_msg_id, and one ticket', async () => {
    const button = [
      { name: 'More', sub_button: [{ type: 'view', name: 'Site', url: 'https://example.com/' }] },
    ];
    await client.createMenu({ button });
    expect(await client.getMenu()).toEqual({ isMenuOpen: true, button });
    const message = { touser: 'sbx_oa_x', templateId: 't', data: {}, clientMsgId: 'req-1' };
    const sent = await client.sendTemplateMessage(message);
    expect(sent.msgId).toMatch(/^\d+$/);
    expect(await client.sendTemplateMessage(message)).toEqual(sent);
    expect(await client.getJsapiTicket()).toBe(await client.getJsapiTicket());
  });
});
