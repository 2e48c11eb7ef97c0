import { Logger } from '@nestjs/common';
import { FakeWechat } from '../../../test/support/fake-wechat-http-api.js';
import { failure } from '../../../test/support/app-errors.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { AccessTokenProvider } from '../access-token/access-token.provider.js';
import { MemoryAccessTokenStore } from '../access-token/memory-access-token-store.js';
import { LiveJsapiTicketApi } from './live-jsapi-ticket-api.js';
import { LiveOfficialAccountClient, menuFromWechat } from './live-official-account-client.js';
import { LiveStableTokenApi } from './live-stable-token-api.js';
import { WechatHttp } from './wechat-http.js';

// The official account's live adapter over the fake WeChat HTTP API: wire formats, the errcodes as
// the contract maps them, and its own token and ticket beside the mini-program's.

const MP_APP_ID = 'wx0123456789abcdef';
const MP_SECRET = 'unit-test-mp-secret';
const OA_APP_ID = 'wx2c2769f8efd9abc2';
const OA_SECRET = 'unit-test-oa-secret';

async function counter(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = metric?.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return (values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}

describe('LiveOfficialAccountClient', () => {
  let fake: FakeWechat;
  let metrics: MetricsService;
  let http: WechatHttp;
  let tokens: AccessTokenProvider;
  let client: LiveOfficialAccountClient;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    fake = await FakeWechat.start({
      appId: MP_APP_ID,
      appSecret: MP_SECRET,
      officialAppId: OA_APP_ID,
      officialAppSecret: OA_SECRET,
    });
    metrics = new MetricsService();
    http = new WechatHttp({ apiBaseUrl: fake.url, timeoutMs: 3000 }, metrics);
    const credentials = { appId: OA_APP_ID, appSecret: OA_SECRET };
    tokens = new AccessTokenProvider(
      new LiveStableTokenApi(http, credentials, metrics, 'official account'),
      new MemoryAccessTokenStore(),
      metrics,
      { timeoutMs: 3000 },
    );
    const tickets = new AccessTokenProvider(
      new LiveJsapiTicketApi(http, tokens, metrics),
      new MemoryAccessTokenStore(),
      metrics,
      { timeoutMs: 3000, holds: 'jsapi_ticket' },
    );
    client = new LiveOfficialAccountClient(http, tokens, tickets, credentials);
  });

  afterEach(async () => {
    await http.onApplicationShutdown();
    await fake.close();
  });

  describe('web sign-in', () => {
    it('exchanges a code with the app secret and no access token; unionid only for snsapi_userinfo', async () => {
      const base = fake.newOAuthCode({ openid: 'oa_alice', unionid: 'u_alice' });
      expect(await client.exchangeOAuthCode(base)).toEqual({
        openid: 'oa_alice',
        scope: 'snsapi_base',
        unionid: undefined,
        isSnapshotUser: false,
        userAccessToken: expect.stringMatching(/^OAUTH_TOKEN_/),
      });
      const [call] = fake.requests('oauth_access_token');
      expect(call.query).toEqual({
        appid: OA_APP_ID,
        secret: OA_SECRET,
        code: base,
        grant_type: 'authorization_code',
      });
      const userinfo = fake.newOAuthCode({
        openid: 'oa_bob',
        scope: 'snsapi_userinfo',
        unionid: 'u_bob',
        nickname: 'Bob',
      });
      const grant = await client.exchangeOAuthCode(userinfo);
      expect(grant).toMatchObject({ openid: 'oa_bob', scope: 'snsapi_userinfo', unionid: 'u_bob' });
      expect(await client.getOAuthUserInfo(grant.userAccessToken, 'oa_bob')).toEqual({
        openid: 'oa_bob',
        nickname: 'Bob',
        headimgurl: expect.stringMatching(/^https:\/\//),
        unionid: 'u_bob',
      });
      expect(fake.requests('sns_userinfo')[0].query).toMatchObject({ openid: 'oa_bob', lang: 'zh_CN' });
      expect(fake.calls('stable_token')).toBe(0);
    });

    it('reads is_snapshotuser, and answers 40001 for a code invalid or used', async () => {
      expect((await client.exchangeOAuthCode(fake.newOAuthCode({ snapshot: true }))).isSnapshotUser).toBe(
        true,
      );
      expect((await failure(client.exchangeOAuthCode('never-issued'))).code).toBe(
        ErrorCode.WECHAT_CODE_INVALID,
      );
      const code = fake.newOAuthCode();
      await client.exchangeOAuthCode(code);
      expect((await failure(client.exchangeOAuthCode(code))).code).toBe(ErrorCode.WECHAT_CODE_INVALID);
    });

    it('refuses /sns/userinfo for a snsapi_base grant (48001 → 50200)', async () => {
      const grant = await client.exchangeOAuthCode(fake.newOAuthCode({ openid: 'oa_carol' }));
      const error = await failure(client.getOAuthUserInfo(grant.userAccessToken, 'oa_carol'));
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 48001 }]);
    });
  });

  describe('calls with the official account’s access token', () => {
    it("fetches the official account's own stable token, never the mini-program's", async () => {
      fake.follow('oa_dave', { unionid: 'u_dave' });
      expect(await client.getFollower('oa_dave')).toEqual({
        openid: 'oa_dave',
        subscribed: true,
        unionid: 'u_dave',
        subscribeTime: expect.any(Number),
      });
      expect(await client.getFollower('oa_nobody')).toEqual({ openid: 'oa_nobody', subscribed: false });
      const fetches = fake.requests('stable_token').map((r) => (r.body as { appid: string }).appid);
      expect(fetches).toEqual([OA_APP_ID]);
      expect(fake.requests('user_info').map((r) => r.query.access_token)).toEqual([
        fake.currentOfficialToken,
        fake.currentOfficialToken,
      ]);
      expect(fake.currentToken).toBeUndefined();
    });

    it('drops a refused official token, fetches again and repeats the call once', async () => {
      fake.follow('oa_erin');
      await client.getFollower('oa_erin');
      const refused = fake.revokeOfficialToken(40001, true);
      await client.getFollower('oa_erin');
      expect(fake.requests('user_info').map((r) => r.query.access_token)).toEqual([
        refused,
        refused,
        fake.currentOfficialToken,
      ]);
    });

    it('sets and reads the menu, sub_button.list turned back into sub_button', async () => {
      const button = [
        { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
        { name: '菜单', sub_button: [{ type: 'view', name: '搜索', url: 'http://www.soso.com/' }] },
      ];
      expect(await client.getMenu()).toEqual({ isMenuOpen: false, button: [] });
      await client.createMenu({ button });
      expect(fake.menu).toEqual({ button });
      expect(await client.getMenu()).toEqual({ isMenuOpen: true, button });
    });

    it('answers 40007 with WeChat’s errcode and errmsg when WeChat refuses the content', async () => {
      fake.failNext('menu_create', 40055, 1, 'invalid button url domain');
      const error = await failure(client.createMenu({ button: [{ type: 'click', name: 'a', key: 'k' }] }));
      expect([error.code, error.data]).toEqual([
        ErrorCode.WECHAT_CONTENT_REFUSED,
        { wechatErrcode: 40055, wechatErrmsg: 'invalid button url domain' },
      ]);
    });

    it('sends a template message with client_msg_id, its 64-bit msgid kept exact, once per id', async () => {
      fake.follow('oa_frank');
      const message = {
        touser: 'oa_frank',
        templateId: 'tmpl_1',
        data: { keyword1: { value: '巧克力' } },
        url: 'https://h5.example.com/order/1',
        clientMsgId: 'req-1',
      };
      const first = await client.sendTemplateMessage(message);
      expect(first.msgId).toMatch(/^\d{16,}$/);
      expect(BigInt(first.msgId)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
      expect(fake.templateMessages()[0].msgid).toBe(first.msgId);
      expect(await client.sendTemplateMessage(message)).toEqual(first);
      expect(fake.templateMessages()).toHaveLength(1);
      expect(fake.requests('template_send')[0].body).toEqual({
        touser: 'oa_frank',
        template_id: 'tmpl_1',
        url: 'https://h5.example.com/order/1',
        client_msg_id: 'req-1',
        data: { keyword1: { value: '巧克力' } },
      });
    });

    it('maps 43004 to 40922 and 45015 / 45047 to 40923', async () => {
      const message = { touser: 'oa_gone', templateId: 't', data: { a: { value: 'b' } }, clientMsgId: 'x' };
      expect((await failure(client.sendTemplateMessage(message))).code).toBe(ErrorCode.NOT_A_FOLLOWER);
      expect((await failure(client.sendCustomText('oa_gone', 'hi'))).code).toBe(ErrorCode.NOT_A_FOLLOWER);
      fake.follow('oa_old', { at: Date.now() - 49 * 3600_000 });
      expect((await failure(client.sendCustomText('oa_old', 'hi'))).code).toBe(
        ErrorCode.SERVICE_WINDOW_CLOSED,
      );
      fake.interact('oa_old');
      await client.sendCustomText('oa_old', 'hello');
      expect(fake.customMessages()).toEqual([
        { touser: 'oa_old', msgtype: 'text', content: 'hello', at: expect.any(Number) },
      ]);
      fake.failNext('custom_send', 45047);
      expect((await failure(client.sendCustomText('oa_old', 'hi'))).code).toBe(
        ErrorCode.SERVICE_WINDOW_CLOSED,
      );
    });

    it('counts every call under an api label of its own', async () => {
      fake.follow('oa_henry');
      await client.getFollower('oa_henry');
      await client.getMenu();
      await client.getJsapiTicket();
      for (const api of ['stable_token', 'user_info', 'menu_get', 'getticket']) {
        expect([api, await counter(metrics, 'wechat_calls_total', { api, errcode: '0' })]).toEqual([api, 1]);
      }
    });
  });

  describe('jsapi_ticket', () => {
    it('is fetched once for 100 concurrent callers, with the official token, and then cached', async () => {
      fake.delayNext('getticket', 200);
      const tickets = await Promise.all(Array.from({ length: 100 }, () => client.getJsapiTicket()));
      expect(new Set(tickets)).toEqual(new Set([fake.currentTicket]));
      expect(await client.getJsapiTicket()).toBe(fake.currentTicket);
      expect(fake.calls('getticket')).toBe(1);
      expect(fake.requests('getticket')[0].query).toEqual({
        access_token: fake.currentOfficialToken,
        type: 'jsapi',
      });
      expect(await counter(metrics, 'wechat_jsapi_ticket_fetches_total', { result: 'ok' })).toBe(1);
    });

    it('counts a failed fetch and keeps nothing', async () => {
      fake.failNext('getticket', 40164);
      expect((await failure(client.getJsapiTicket())).code).toBe(ErrorCode.WECHAT_ERROR);
      expect(await counter(metrics, 'wechat_jsapi_ticket_fetches_total', { result: 'error' })).toBe(1);
      expect(await client.getJsapiTicket()).toBe(fake.currentTicket);
      expect(fake.calls('getticket')).toBe(2);
    });
  });

  it('keeps the fields of buttons made in the OA admin as WeChat gives them', () => {
    const news = {
      type: 'news',
      name: '图文',
      value: 'KQb_w_Tiz-nSdVLoTV35Psmty8hGBulGhEdbb9SKs-o',
      news_info: { list: [] },
    };
    expect(
      menuFromWechat({
        is_menu_open: 1,
        selfmenu_info: {
          button: [
            { type: 'text', name: 'a', value: 'hello' },
            { name: 'b', sub_button: { list: [news, { type: 'img', name: 'c', value: 'media' }] } },
          ],
        },
      }),
    ).toEqual({
      isMenuOpen: true,
      button: [
        { type: 'text', name: 'a', value: 'hello' },
        { name: 'b', sub_button: [news, { type: 'img', name: 'c', value: 'media' }] },
      ],
    });
  });
});
