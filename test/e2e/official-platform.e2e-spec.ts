/**
 * The official account's platform routes on both databases: the JS-SDK configuration and the admin
 * menu, against the fake WeChat playing the official account; and every such route answering 404
 * when the service has no official account.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import {
  expectError,
  expectOk,
  expectValidationError,
  nowSec,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import { OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';

const JSSDK = '/api/v1/wechat/official/jssdk-config';
const MENU = '/api/v1/admin/official/menu';

const OFFICIAL_ENV = {
  WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
  WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
  WECHAT_OA_TOKEN: 'spamtest',
  PUBLIC_BASE_URL: 'https://api.example.com',
  OAUTH_REDIRECT_ALLOWLIST: 'https://h5.example.com,http://127.0.0.1:8080',
};

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');

describe('the official account’s JS-SDK configuration and menu', () => {
  let h: Harness;
  let admin: LoginResult;
  let user: LoginResult;

  const jssdk = (url?: string): Promise<Response> =>
    h
      .http()
      .get(JSSDK)
      .query(url === undefined ? {} : { url });
  const getMenu = (who: LoginResult = admin) => h.http().get(MENU).set('Authorization', who.bearer);
  const putMenu = (body: unknown, who: LoginResult = admin) =>
    h
      .http()
      .put(MENU)
      .set('Authorization', who.bearer)
      .send(body as object);

  beforeAll(async () => {
    h = await startHarness({ env: OFFICIAL_ENV });
    admin = await h.loginAdmin();
    user = await h.login();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.fake.reset());

  describe('GET /wechat/official/jssdk-config', () => {
    // First: no ticket is cached yet.
    it('answers 502 / 50200 when WeChat refuses the ticket, keeps nothing, and fetches on the next call', async () => {
      h.fake.failNext('getticket', 40164);
      expect(expectError(await jssdk('https://h5.example.com/'), 50200)).toEqual({ wechatErrcode: 40164 });
      expectOk(await jssdk('https://h5.example.com/'));
      expect(h.fake.calls('getticket')).toBe(2);
      // Fetched with the official account's token, not the mini-program's.
      const fetched = h.fake.requests('getticket').at(-1)!;
      expect(fetched.query).toEqual({ access_token: h.fake.currentOfficialToken, type: 'jsapi' });
      expect(h.fake.currentOfficialToken).not.toBe(h.fake.currentToken);
    });

    it('signs an allow-listed page exactly as WeChat does, with the shared jsapi_ticket', async () => {
      const url = 'https://h5.example.com/pay?order=42&from=menu';
      const before = nowSec();
      const data = expectOk(await jssdk(url));
      expect(Object.keys(data).sort()).toEqual(['appId', 'nonceStr', 'signature', 'timestamp']);
      expect(data.appId).toBe(OFFICIAL_APP_ID);
      expect(Number.isInteger(data.timestamp)).toBe(true);
      expect(data.timestamp).toBeGreaterThanOrEqual(before);
      expect(data.timestamp).toBeLessThanOrEqual(nowSec());
      expect(data.nonceStr).toMatch(/^[A-Za-z0-9]{16,32}$/);
      const ticket = h.fake.currentTicket!;
      expect(data.signature).toBe(
        sha1(`jsapi_ticket=${ticket}&noncestr=${data.nonceStr}&timestamp=${data.timestamp}&url=${url}`),
      );
      // The ticket itself never leaves the service.
      expect(JSON.stringify(data)).not.toContain(ticket);
      // Cached by the first test: no fetch now.
      expect(h.fake.calls('getticket')).toBe(0);
    });

    it('signs the URL as received, not normalised; a fresh nonce each call; one ticket fetch for all', async () => {
      const urls = [
        'https://H5.example.com/页面?q=中文&x=%E4%B8%AD',
        'http://127.0.0.1:8080/index.html',
        'https://h5.example.com:443/a/../b?',
      ];
      const answers = await Promise.all([...urls, ...urls].map((url) => jssdk(url)));
      const nonces = new Set<string>();
      answers.forEach((res, i) => {
        const data = expectOk(res);
        const url = [...urls, ...urls][i];
        nonces.add(data.nonceStr);
        expect(data.signature).toBe(
          sha1(
            `jsapi_ticket=${h.fake.currentTicket}&noncestr=${data.nonceStr}&timestamp=${data.timestamp}&url=${url}`,
          ),
        );
      });
      expect(nonces.size).toBe(answers.length);
      expect(h.fake.calls('getticket')).toBe(0); // cached by the first test
    });

    it.each([
      ['another origin', 'https://evil.example.com/pay'],
      ['a look-alike host', 'https://h5.example.com.evil.example.com/'],
      ['another scheme', 'http://h5.example.com/'],
      ['another port', 'http://127.0.0.1:8081/'],
      ['user info', 'https://user@h5.example.com/'],
    ])('refuses %s with 400 / 40004', async (_what, url) => {
      expectError(await jssdk(url), 40004);
      expect(h.fake.calls('getticket')).toBe(0);
    });

    it.each([
      ['a fragment', 'https://h5.example.com/#/pay'],
      ['a relative URL', '/pay'],
      ['no scheme', 'h5.example.com/pay'],
      ['1,025 characters', `https://h5.example.com/${'a'.repeat(1025 - 'https://h5.example.com/'.length)}`],
    ])('refuses %s with 400 / 40000 naming url', async (_what, url) => {
      expectValidationError(await jssdk(url), 'url');
    });

    it('refuses a missing url, a repeated one and unknown parameters with 40000', async () => {
      expectValidationError(await jssdk(), 'url');
      expectValidationError(
        await h.http().get(`${JSSDK}?url=https://h5.example.com/&url=https://h5.example.com/`),
      );
      expectValidationError(await h.http().get(JSSDK).query({ url: 'https://h5.example.com/', debug: '1' }));
    });

    it('accepts exactly 1,024 characters', async () => {
      expectOk(await jssdk(`https://h5.example.com/${'a'.repeat(1024 - 'https://h5.example.com/'.length)}`));
    });
  });

  describe('GET and PUT /admin/official/menu', () => {
    const menu = {
      button: [
        { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
        {
          name: '菜单',
          sub_button: [
            { type: 'view', name: '搜索', url: 'http://www.soso.com/' },
            {
              type: 'miniprogram',
              name: 'wxa',
              url: 'http://mp.weixin.qq.com',
              appid: 'wx286b93c14bbf93aa',
              pagepath: 'pages/lunar/index',
            },
          ],
        },
      ],
    };

    it('reads no menu before one is set', async () => {
      expect(expectOk(await getMenu())).toEqual({ isMenuOpen: false, button: [] });
    });

    it('sets the menu at WeChat, answers it, and reads it back with sub_button as a list', async () => {
      expect(expectOk(await putMenu(menu))).toEqual({ isMenuOpen: true, button: menu.button });
      expect(h.fake.menu).toEqual(menu);
      const [create] = h.fake.requests('menu_create');
      expect(create.query.access_token).toBe(h.fake.currentOfficialToken);
      expect(expectOk(await getMenu())).toEqual({ isMenuOpen: true, button: menu.button });
      // WeChat itself answered sub_button as { list }.
      const [read] = h.fake.requests('menu_get');
      expect(read.errcode).toBe(0);
      const dump = await h.dumpDatabase();
      expect(dump).toContain('menu_set');
    });

    it('keeps the fields of a menu made in the official account admin as WeChat gives them', async () => {
      const news = {
        type: 'news',
        name: '图文',
        value: 'KQb_w_Tiz-nSdVLoTV35Psmty8hGBulGhEdbb9SKs-o',
        news_info: { list: [] },
      };
      h.fake.setAdminMenu({
        button: [
          { type: 'text', name: '文字', value: '你好' },
          { name: '更多', sub_button: { list: [news, { type: 'img', name: '图片', value: 'media_1' }] } },
        ],
      });
      expect(expectOk(await getMenu())).toEqual({
        isMenuOpen: true,
        button: [
          { type: 'text', name: '文字', value: '你好' },
          { name: '更多', sub_button: [news, { type: 'img', name: '图片', value: 'media_1' }] },
        ],
      });
    });

    it.each([
      ['button.0.name', { button: [{ type: 'click', name: '一二三四五六', key: 'k' }] }],
      ['button.0.sub_button', { button: [{ name: 'm', sub_button: [] }] }],
      ['button', { button: [] }],
      ['button', { button: Array.from({ length: 4 }, () => ({ type: 'click', name: 'a', key: 'k' })) }],
      ['button.0.key', { button: [{ type: 'click', name: 'a' }] }],
      ['button.0.url', { button: [{ type: 'click', name: 'a', key: 'k', url: 'https://h5.example.com/' }] }],
      ['button.0.type', { button: [{ type: 'media_id', name: 'a', media_id: 'x' }] }],
      ['button', { button: 'click' }],
      ['extra', { button: [{ type: 'click', name: 'a', key: 'k' }], extra: 1 }],
    ])('refuses a menu with a bad %s with 40000, sending nothing to WeChat', async (field, body) => {
      expectValidationError(await putMenu(body), field);
      expect(h.fake.calls('menu_create')).toBe(0);
    });

    it('answers 400 / 40007 with WeChat’s errcode and errmsg when WeChat refuses the menu', async () => {
      h.fake.failNext('menu_create', 40055, 1, 'invalid button url domain');
      const data = expectError(await putMenu(menu), 40007);
      expect(data).toEqual({ wechatErrcode: 40055, wechatErrmsg: 'invalid button url domain' });
    });

    it('is for admins only', async () => {
      expectError(await getMenu(user), 40300);
      expectError(await putMenu(menu, user), 40300);
      expectError(await h.http().get(MENU), 40100);
      expect(h.fake.calls('menu_get') + h.fake.calls('menu_create')).toBe(0);
    });
  });
});

describe('the official account’s platform routes without an official account', () => {
  let h: Harness;
  let admin: LoginResult;

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.loginAdmin();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 404 / 40400 on each of them, whoever calls, and calls no WeChat', async () => {
    expectError(await h.http().get(JSSDK).query({ url: 'https://h5.example.com/' }), 40400);
    expectError(await h.http().get(MENU).set('Authorization', admin.bearer), 40400);
    expectError(await h.http().put(MENU).set('Authorization', admin.bearer).send({ button: [] }), 40400);
    expectError(await h.http().get(MENU), 40400);
    expectError(await h.http().put(MENU).send({}), 40400);
    expect(h.fake.calls('getticket') + h.fake.calls('menu_get') + h.fake.calls('menu_create')).toBe(0);
  });
});
