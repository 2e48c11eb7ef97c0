import { createDecipheriv, createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import { FakeWechat, OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';
import {
  encryptRaw,
  encryptWechatData,
  randomSessionKey,
  sessionKeySignature,
} from '../support/wechat-crypto-helpers.js';

const APP_ID = 'wx1234567890abcdef';
const SECRET = 'fake-secret-for-unit-test-000000';

type Json = Record<string, unknown>;

describe('FakeWechat', () => {
  let fake: FakeWechat;

  const get = async (path: string, query: Record<string, string>): Promise<Json> => {
    const res = await fetch(`${fake.url}${path}?${new URLSearchParams(query)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  };
  const post = async (path: string, body: unknown, query: Record<string, string> = {}): Promise<Response> =>
    fetch(`${fake.url}${path}?${new URLSearchParams(query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const code2Session = (code: string, overrides: Record<string, string> = {}) =>
    get('/sns/jscode2session', {
      appid: APP_ID,
      secret: SECRET,
      js_code: code,
      grant_type: 'authorization_code',
      ...overrides,
    });
  const stableToken = async (force = false): Promise<Json> =>
    (await (
      await post('/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: APP_ID,
        secret: SECRET,
        force_refresh: force,
      })
    ).json()) as Json;

  beforeEach(async () => {
    fake = await FakeWechat.start({ appId: APP_ID, appSecret: SECRET });
  });
  afterEach(async () => {
    await fake.close();
  });

  describe('jscode2session', () => {
    it('maps an unknown code to a deterministic openid and a stable session key', async () => {
      const a = await code2Session('abc');
      expect(a.openid).toBe(FakeWechat.openidForCode('abc'));
      expect(Buffer.from(a.session_key as string, 'base64')).toHaveLength(16);
      expect(a.unionid).toBeUndefined();
      expect(fake.sessionKeyOf(a.openid as string)).toBe(a.session_key);
    });

    it('answers 40163 when a code is used again', async () => {
      await code2Session('once');
      expect(await code2Session('once')).toEqual({ errcode: 40163, errmsg: expect.any(String) });
    });

    it('answers registered identities, several codes for one openid sharing the session key', async () => {
      fake.registerCode('reg', { openid: 'o_reg', unionid: 'u_reg' });
      const first = await code2Session('reg');
      expect(first).toMatchObject({ openid: 'o_reg', unionid: 'u_reg' });
      const again = await code2Session(fake.newCode('o_reg'));
      expect(again.openid).toBe('o_reg');
      expect(again.session_key).toBe(first.session_key);
      const key = fake.rotateSessionKey('o_reg');
      expect((await code2Session(fake.newCode('o_reg'))).session_key).toBe(key);
    });

    it('checks appid, secret and grant_type', async () => {
      expect((await code2Session('x1', { appid: 'wxother000000' })).errcode).toBe(40013);
      expect((await code2Session('x2', { secret: 'nope' })).errcode).toBe(40125);
      expect((await code2Session('x3', { grant_type: 'client_credential' })).errcode).toBe(40002);
      expect((await code2Session('')).errcode).toBe(41008);
    });

    it('rejects a specific code with a chosen errcode', async () => {
      fake.rejectCode('risky', 40226);
      expect((await code2Session('risky')).errcode).toBe(40226);
    });
  });

  describe('stable_token', () => {
    it('hands the same token with its remaining lifetime; force_refresh makes a new one', async () => {
      const a = await stableToken();
      const b = await stableToken();
      expect(a.access_token).toBe(b.access_token);
      expect(b.expires_in).toBeLessThanOrEqual(7200);
      expect(fake.currentToken).toBe(a.access_token);
      const c = await stableToken(true);
      expect(c.access_token).not.toBe(a.access_token);
      expect(fake.forceRefreshCount).toBe(1);
      expect(fake.calls('stable_token')).toBe(3);
      expect(fake.requests('stable_token')[2].body).toMatchObject({ force_refresh: true, appid: APP_ID });
    });

    it('hands out a new token from 5 minutes before the current one expires, the old one still working', async () => {
      const realNow = Date.now.bind(Date);
      let offset = 0;
      const now = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
      try {
        const first = (await stableToken()).access_token as string;
        offset = (7200 - 310) * 1000;
        const still = await stableToken();
        expect(still.access_token).toBe(first);
        expect(still.expires_in).toBeGreaterThan(300);
        offset += 11_000;
        const renewed = await stableToken();
        expect(renewed.access_token).not.toBe(first);
        expect(renewed.expires_in).toBe(7200);
        expect(fake.forceRefreshCount).toBe(0);
        const code = fake.newPhoneCode({ purePhoneNumber: '13800138000' });
        const old = await post('/wxa/business/getuserphonenumber', { code }, { access_token: first });
        expect(((await old.json()) as Json).errcode).toBe(0);
      } finally {
        now.mockRestore();
      }
    });

    it('refuses a wrong secret and a body that is not JSON', async () => {
      const bad = await post('/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: APP_ID,
        secret: 'x',
      });
      expect(((await bad.json()) as Json).errcode).toBe(40125);
      expect(((await (await post('/cgi-bin/stable_token', '{oops')).json()) as Json).errcode).toBe(47001);
    });
  });

  describe('getuserphonenumber', () => {
    it('answers phone_info with a watermark, once per code, and checks the token', async () => {
      const token = (await stableToken()).access_token as string;
      const code = fake.newPhoneCode({ purePhoneNumber: '13800138000' });
      const res = await post('/wxa/business/getuserphonenumber', { code }, { access_token: token });
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({
        errcode: 0,
        phone_info: {
          phoneNumber: '13800138000',
          purePhoneNumber: '13800138000',
          countryCode: '86',
          watermark: { appid: APP_ID, timestamp: expect.any(Number) },
        },
      });
      const again = await post('/wxa/business/getuserphonenumber', { code }, { access_token: token });
      expect(((await again.json()) as Json).errcode).toBe(40029);
      const noToken = await post(
        '/wxa/business/getuserphonenumber',
        { code: 'x' },
        { access_token: 'bogus' },
      );
      expect(((await noToken.json()) as Json).errcode).toBe(40001);
    });

    it('answers 40001 / 42001 for a revoked token until a new one is fetched', async () => {
      const token = (await stableToken()).access_token as string;
      fake.revokeToken(40001);
      const code = fake.newPhoneCode({ purePhoneNumber: '13800138000', appid: 'wxanother0000000' });
      const failed = await post('/wxa/business/getuserphonenumber', { code }, { access_token: token });
      expect(((await failed.json()) as Json).errcode).toBe(40001);
      // Without rotation WeChat keeps handing the failing token until force_refresh.
      expect((await stableToken()).access_token).toBe(token);
      const fresh = (await stableToken(true)).access_token as string;
      const ok = await post('/wxa/business/getuserphonenumber', { code }, { access_token: fresh });
      expect(((await ok.json()) as Json).phone_info).toMatchObject({
        watermark: { appid: 'wxanother0000000' },
      });

      fake.revokeToken(42001);
      expect(
        (
          (await (
            await post('/wxa/business/getuserphonenumber', { code }, { access_token: fresh })
          ).json()) as Json
        ).errcode,
      ).toBe(42001);
      expect((await stableToken()).access_token).not.toBe(fresh);
    });
  });

  describe('subscribe send and checksession', () => {
    it('sends a message and verifies the session key signature', async () => {
      const token = (await stableToken()).access_token as string;
      const sent = await post(
        '/cgi-bin/message/subscribe/send',
        { touser: 'o_1', template_id: 'tpl', data: { thing1: { value: 'hi' } } },
        { access_token: token },
      );
      expect(((await sent.json()) as Json).errcode).toBe(0);
      const bad = await post('/cgi-bin/message/subscribe/send', { touser: 'o_1' }, { access_token: token });
      expect(((await bad.json()) as Json).errcode).toBe(40037);

      const key = fake.sessionKeyOf('o_1');
      const q = { access_token: token, openid: 'o_1', sig_method: 'hmac_sha256' };
      expect((await get('/wxa/checksession', { ...q, signature: sessionKeySignature(key) })).errcode).toBe(0);
      expect(
        (await get('/wxa/checksession', { ...q, signature: sessionKeySignature(randomSessionKey()) }))
          .errcode,
      ).toBe(87009);
      expect(sessionKeySignature(key)).toBe(createHmac('sha256', key).update('').digest('hex'));
    });
  });

  describe('scripted faults', () => {
    it('answers an errcode for the next N calls, then behaves', async () => {
      fake.failNext('jscode2session', 45011, 2);
      expect((await code2Session('f1')).errcode).toBe(45011);
      expect((await code2Session('f2')).errcode).toBe(45011);
      expect((await code2Session('f3')).openid).toBeDefined();
      fake.busyOnce('jscode2session');
      expect((await code2Session('f4')).errcode).toBe(-1);
      expect(fake.calls('jscode2session')).toBe(4);
      expect(fake.log.map((r) => r.errcode)).toEqual([45011, 45011, 0, -1]);
    });

    it('delays, answers HTTP 500 and drops connections', async () => {
      fake.delayNext('jscode2session', 200);
      const started = Date.now();
      expect((await code2Session('slow')).openid).toBeDefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);

      fake.http500Next('stable_token');
      const res = await post('/cgi-bin/stable_token', {});
      expect(res.status).toBe(500);
      await res.text();

      fake.dropNext('jscode2session');
      await expect(code2Session('dropped')).rejects.toThrow();
      expect(fake.pendingFaults('jscode2session')).toBe(0);
    });

    it('closes promptly with a delayed answer pending', async () => {
      fake.delayNext('jscode2session', 60_000);
      const pending = code2Session('never').catch((e: unknown) => e);
      await fake.waitForCalls('jscode2session');
      await fake.close();
      // fetch rejects (a TypeError from another realm, so no toBeInstanceOf here).
      expect(await pending).toMatchObject({ message: expect.any(String) });
      fake = await FakeWechat.start({ appId: APP_ID, appSecret: SECRET }); // for afterEach
    });
  });

  describe('encryptedData helpers', () => {
    const vector = {
      appId: 'wx4f4bc4dec97d474b',
      sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
      iv: 'r7BXXKkLb8qrSNn05n0qiA==',
      encryptedData:
        'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
    };
    const decrypt = (data: string, key: string, iv: string): string => {
      const d = createDecipheriv('aes-128-cbc', Buffer.from(key, 'base64'), Buffer.from(iv, 'base64'));
      return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
    };

    it("reproduces WeChat's published sample byte for byte", () => {
      const plain = decrypt(vector.encryptedData, vector.sessionKey, vector.iv);
      expect(JSON.parse(plain)).toMatchObject({ nickName: 'Band', watermark: { appid: vector.appId } });
      expect(encryptRaw(plain, vector.sessionKey, vector.iv)).toBe(vector.encryptedData);
    });

    it('builds data with a watermark that decrypts with the session key', () => {
      const key = randomSessionKey();
      const block = encryptWechatData({ stepInfoList: [{ step: 1 }] }, key, { appId: APP_ID, timestamp: 1 });
      expect(Buffer.from(block.iv, 'base64')).toHaveLength(16);
      expect(JSON.parse(decrypt(block.encryptedData, key, block.iv))).toEqual({
        stepInfoList: [{ step: 1 }],
        watermark: { timestamp: 1, appid: APP_ID },
      });
      const bare = encryptWechatData({ a: 1 }, key, { appId: null });
      expect(JSON.parse(decrypt(bare.encryptedData, key, bare.iv))).toEqual({ a: 1 });
    });
  });

  describe('the official account', () => {
    const officialToken = async (): Promise<string> =>
      (
        (await (
          await post('/cgi-bin/stable_token', {
            grant_type: 'client_credential',
            appid: OFFICIAL_APP_ID,
            secret: OFFICIAL_APP_SECRET,
            force_refresh: false,
          })
        ).json()) as Json
      ).access_token as string;

    it('hands the second app stable tokens of its own, each app refusing the other’s', async () => {
      const mp = (await stableToken()).access_token as string;
      const oa = await officialToken();
      expect(oa).not.toBe(mp);
      expect([fake.currentToken, fake.currentOfficialToken]).toEqual([mp, oa]);
      expect(await get('/cgi-bin/user/info', { access_token: mp, openid: 'x' })).toMatchObject({
        errcode: 40001,
      });
      expect(await get('/cgi-bin/user/info', { access_token: oa, openid: 'x' })).toEqual({
        subscribe: 0,
        openid: 'x',
      });
      const wrongSecret = await post('/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: OFFICIAL_APP_ID,
        secret: SECRET,
      });
      expect(await wrongSecret.json()).toMatchObject({ errcode: 40125 });
    });

    it('plays the WeChat browser step of web sign-in on the service’s authorize link', () => {
      const redirect = encodeURIComponent('https://api.example.com/api/v1/auth/wechat/oauth/callback');
      const link = (query: string, tail = '#wechat_redirect') =>
        `https://open.weixin.qq.com/connect/oauth2/authorize?${query}${tail}`;
      const good = link(
        `appid=${OFFICIAL_APP_ID}&redirect_uri=${redirect}&response_type=code&scope=snsapi_userinfo&state=abc123`,
      );
      const step = fake.authorize(good, { identity: { unionid: 'u_1' } });
      const target = new URL(step.redirectTo);
      expect(`${target.origin}${target.pathname}`).toBe(
        'https://api.example.com/api/v1/auth/wechat/oauth/callback',
      );
      expect([target.searchParams.get('code'), target.searchParams.get('state')]).toEqual([
        step.code,
        'abc123',
      ]);
      expect(step.identity).toMatchObject({ scope: 'snsapi_userinfo', unionid: 'u_1' });
      expect(fake.authorize(good, { consent: false }).redirectTo).toBe(
        'https://api.example.com/api/v1/auth/wechat/oauth/callback?state=abc123',
      );
      expect(() => fake.authorize(good.replace('#wechat_redirect', ''))).toThrow(/wechat_redirect/);
      expect(() =>
        fake.authorize(
          link(
            `redirect_uri=${redirect}&appid=${OFFICIAL_APP_ID}&response_type=code&scope=snsapi_base&state=a`,
          ),
        ),
      ).toThrow(/order/);
      expect(() =>
        fake.authorize(
          link(
            `appid=wx0000000000000000&redirect_uri=${redirect}&response_type=code&scope=snsapi_base&state=a`,
          ),
        ),
      ).toThrow(/appid/);
    });

    it('answers a code once, with unionid only for snsapi_userinfo, and is_snapshotuser when asked', async () => {
      const exchange = (code: string) =>
        get('/sns/oauth2/access_token', {
          appid: OFFICIAL_APP_ID,
          secret: OFFICIAL_APP_SECRET,
          code,
          grant_type: 'authorization_code',
        });
      const base = fake.newOAuthCode({ openid: 'oa_1', unionid: 'u_1' });
      const answer = await exchange(base);
      expect(answer).toMatchObject({ openid: 'oa_1', scope: 'snsapi_base', expires_in: 7200 });
      expect(answer.unionid).toBeUndefined();
      expect(await exchange(base)).toMatchObject({ errcode: 40163 });
      expect(await exchange('unknown')).toMatchObject({ errcode: 40029 });
      expect(await exchange(fake.newOAuthCode({ scope: 'snsapi_userinfo', unionid: 'u_2' }))).toMatchObject({
        unionid: 'u_2',
      });
      expect(await exchange(fake.newOAuthCode({ snapshot: true }))).toMatchObject({ is_snapshotuser: 1 });
    });

    it('refuses a menu as WeChat does, and reads it back with sub_button.list', async () => {
      const token = await officialToken();
      const create = async (button: unknown) =>
        (await (await post('/cgi-bin/menu/create', { button }, { access_token: token })).json()) as Json;
      expect(await create([])).toMatchObject({ errcode: 40016 });
      expect(await create([{ type: 'click', name: '一二三四五六', key: 'k' }])).toMatchObject({
        errcode: 40018,
      });
      expect(await create([{ name: 'a', sub_button: [] }])).toMatchObject({ errcode: 40023 });
      expect(await create([{ name: 'a', sub_button: [{ type: 'view', name: 'b' }] }])).toMatchObject({
        errcode: 40027,
      });
      expect(
        await create([{ name: 'a', sub_button: [{ type: 'click', name: 'b', key: 'k' }] }]),
      ).toMatchObject({
        errcode: 0,
      });
      expect(await get('/cgi-bin/get_current_selfmenu_info', { access_token: token })).toEqual({
        is_menu_open: 1,
        selfmenu_info: {
          button: [{ name: 'a', sub_button: { list: [{ type: 'click', name: 'b', key: 'k' }] } }],
        },
      });
    });

    it('hands out one jsapi_ticket with its remaining lifetime', async () => {
      const token = await officialToken();
      const first = await get('/cgi-bin/ticket/getticket', { access_token: token, type: 'jsapi' });
      expect(first).toMatchObject({ errcode: 0, ticket: fake.currentTicket, expires_in: 7200 });
      expect((await get('/cgi-bin/ticket/getticket', { access_token: token, type: 'jsapi' })).ticket).toBe(
        first.ticket,
      );
      fake.expireTicket();
      expect(
        (await get('/cgi-bin/ticket/getticket', { access_token: token, type: 'jsapi' })).ticket,
      ).not.toBe(first.ticket);
    });

    it('keeps the 48-hour window and the allowance of customer-service messages', async () => {
      await fake.close();
      fake = await FakeWechat.start({ appId: APP_ID, appSecret: SECRET, customMessageAllowance: 2 });
      const token = await officialToken();
      const send = async (touser: string) =>
        (
          (await (
            await post(
              '/cgi-bin/message/custom/send',
              { touser, msgtype: 'text', text: { content: 'hi' } },
              { access_token: token },
            )
          ).json()) as Json
        ).errcode;
      expect(await send('oa_stranger')).toBe(43004);
      fake.follow('oa_x');
      expect([await send('oa_x'), await send('oa_x'), await send('oa_x')]).toEqual([0, 0, 45047]);
      fake.interact('oa_x', Date.now() - 48 * 3600_000 - 1000);
      expect(await send('oa_x')).toBe(45015);
      fake.unfollow('oa_x');
      expect(await send('oa_x')).toBe(43004);
    });
  });
});
