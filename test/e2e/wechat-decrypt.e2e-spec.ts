import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import {
  APP_ID,
  OTHER_APP_ID,
  expectError,
  expectNoSecrets,
  expectOk,
  expectValidationError,
  startHarness,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import { encryptRaw, encryptWechatData, randomSessionKey } from '../support/wechat-crypto-helpers.js';

const DECRYPT = '/api/v1/wechat/decrypt';

describe('POST /api/v1/wechat/decrypt', () => {
  let h: Harness;
  let login: LoginResult;

  const decrypt = async (body: unknown, who: LoginResult = login): Promise<Response> =>
    h
      .http()
      .post(DECRYPT)
      .set('Authorization', who.bearer)
      .send(body as object);

  beforeAll(async () => {
    h = await startHarness();
    login = await h.login(undefined, { unionid: 'u_decrypt_union_00000000001' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('decrypts user info with the session key, dropping watermark, openId and unionId', async () => {
    const info = {
      openId: login.openid,
      unionId: login.unionid,
      nickName: 'Band',
      gender: 1,
      language: 'zh_CN',
      city: 'Guangzhou',
      avatarUrl: 'http://wx.qlogo.cn/mmopen/vi_32/x/0',
    };
    const res = await decrypt(encryptWechatData(info, login.sessionKey, { appId: APP_ID }));
    expect(expectOk(res)).toEqual({
      nickName: 'Band',
      gender: 1,
      language: 'zh_CN',
      city: 'Guangzhou',
      avatarUrl: 'http://wx.qlogo.cn/mmopen/vi_32/x/0',
    });
    expectNoSecrets(res, [login.openid, login.unionid, login.sessionKey]);
  });

  it('decrypts other data blocks (WeRun steps) as they are', async () => {
    const steps = {
      stepInfoList: [
        { timestamp: 1445866601, step: 100 },
        { timestamp: 1445876777, step: 120 },
      ],
    };
    expect(expectOk(await decrypt(encryptWechatData(steps, login.sessionKey, { appId: APP_ID })))).toEqual(
      steps,
    );
  });

  it('answers 40002 for data of another app, or without watermark', async () => {
    expectError(await decrypt(encryptWechatData({ a: 1 }, login.sessionKey, { appId: OTHER_APP_ID })), 40002);
    expectError(await decrypt(encryptWechatData({ a: 1 }, login.sessionKey, { appId: null })), 40002);
  });

  describe('data that does not decrypt: WeChat is asked about the stored key (checksession)', () => {
    beforeEach(() => h.fake.reset());

    it('answers 400 / 40003 when WeChat confirms the key current: the data is older than the login', async () => {
      const block = encryptWechatData({ a: 1 }, randomSessionKey(), { appId: APP_ID });
      expectError(await decrypt(block), 40003);
      const [check] = h.fake.requests('checksession');
      expect(h.fake.calls('checksession')).toBe(1);
      expect(check.query).toMatchObject({ openid: login.openid, sig_method: 'hmac_sha256' });
      expect(check.errcode).toBe(0);
    });

    it('answers 40003 for data that decrypts to something other than UTF-8 JSON', async () => {
      const iv = randomBytes(16).toString('base64');
      expectError(
        await decrypt({ encryptedData: encryptRaw('hello, not json', login.sessionKey, iv), iv }),
        40003,
      );
      const notUtf8 = Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d, 0xc3, 0x28]);
      expectError(await decrypt({ encryptedData: encryptRaw(notUtf8, login.sessionKey, iv), iv }), 40003);
    });

    it('answers 401 / 40104 when WeChat calls the stored key stale (87009): wx.login again', async () => {
      const user = await h.login();
      h.fake.rotateSessionKey(user.openid); // a wx.login elsewhere that never reached this service
      const block = encryptWechatData({ a: 1 }, h.fake.sessionKeyOf(user.openid), { appId: APP_ID });
      expectError(await decrypt(block, user), 40104);
      expect(h.fake.requests('checksession').map((r) => r.errcode)).toEqual([87009]);
    });

    it.each([
      ['another errcode', () => h.fake.failNext('checksession', 40013)],
      ['HTTP 500', () => h.fake.http500Next('checksession')],
      ['a dropped connection', () => h.fake.dropNext('checksession')],
    ])('answers 40104 when checksession gives no clear answer (%s)', async (_what, fail) => {
      fail();
      const block = encryptWechatData({ a: 1 }, randomSessionKey(), { appId: APP_ID });
      expectError(await decrypt(block), 40104);
      expect(h.fake.calls('checksession')).toBe(1);
    });

    it('asks nothing when the data decrypts', async () => {
      expectOk(await decrypt(encryptWechatData({ a: 1 }, login.sessionKey, { appId: APP_ID })));
      expect(h.fake.calls('checksession')).toBe(0);
    });

    it('follows the session key a new wx.login hands out: data under the old one is 40003', async () => {
      const user = await h.login();
      const oldKey = user.sessionKey;
      h.fake.rotateSessionKey(user.openid);
      const again = await h.login(user.openid);
      expect(again.sessionKey).not.toBe(oldKey);

      const fresh = encryptWechatData({ fresh: true }, again.sessionKey, { appId: APP_ID });
      expect(expectOk(await decrypt(fresh, again))).toEqual({ fresh: true });
      const stale = encryptWechatData({ fresh: false }, oldKey, { appId: APP_ID });
      expectError(await decrypt(stale, again), 40003);
    });

    it('decrypts only with the caller’s own session key', async () => {
      const other = await h.login();
      const block = encryptWechatData({ mine: true }, other.sessionKey, { appId: APP_ID });
      expectError(await decrypt(block), 40003);
      expect(expectOk(await decrypt(block, other))).toEqual({ mine: true });
    });
  });

  it('needs a bearer token', async () => {
    const block = encryptWechatData({ a: 1 }, login.sessionKey, { appId: APP_ID });
    expectError(await h.http().post(DECRYPT).send(block), 40100);
  });

  it.each([
    ['encryptedData', { iv: randomBytes(16).toString('base64') }],
    ['iv', { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    ['encryptedData', { encryptedData: 123, iv: randomBytes(16).toString('base64') }],
    ['iv', { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: ['x'] }],
  ])('refuses a body without a proper %s with 40000', async (field, body) => {
    expectValidationError(await decrypt(body), field);
  });

  it('refuses unknown properties with 40000', async () => {
    const block = encryptWechatData({ a: 1 }, login.sessionKey, { appId: APP_ID });
    expectValidationError(await decrypt({ ...block, sessionKey: login.sessionKey }), 'sessionKey');
  });

  it.each([
    ['an iv of 8 bytes', { iv: randomBytes(8).toString('base64') }],
    ['an iv that is not base64', { iv: '%%%%not base64%%%%' }],
    ['data that is not base64', { encryptedData: '***' }],
    ['data of 5 bytes', { encryptedData: randomBytes(5).toString('base64') }],
  ])('answers 400 / 40000, 400 / 40003 or 401 / 40104 for %s, never 5xx', async (_label, change) => {
    const block = encryptWechatData({ a: 1 }, login.sessionKey, { appId: APP_ID });
    const res = await decrypt({ ...block, ...change });
    expect([40000, 40003, 40104]).toContain(res.body?.code);
    expectError(res, res.body.code as number);
  });
});
