/**
 * The BUILT mini-program package (sdk/miniprogram/dist) against the BUILT service in sandbox mode:
 * the shim's wx.request goes over HTTP, and its wx.requestPayment pays through the sandbox's own
 * payment route, as the WeChat Pay sheet would.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { ApiError, ErrorCode, createClient, type Client, type User } from '../../miniprogram/dist/index.js';
import { LiveService } from '../live-service.js';
import { WxShim, overHttp } from '../wx-shim.js';

const service = new LiveService();

beforeAll(() => service.start({ RATE_LIMIT_ENABLED: 'false' }), 30_000);
afterAll(() => service.stop(), 15_000);

function miniProgram(code: string): { wx: WxShim; client: Client } {
  const shim: { wx?: WxShim } = {};
  const wx = new WxShim({
    handle: overHttp,
    loginCode: () => code,
    // The payment sheet's part: the sandbox's stand-in pays the order, as the user would.
    requestPayment: async () => {
      const order = paying.shift()!;
      const token = JSON.parse(shim.wx!.storage.get('wxb_session')!).accessToken as string;
      const res = await fetch(`${service.api}/sandbox/orders/${order}/pay`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`sandbox pay answered ${res.status}: ${await res.text()}`);
    },
  });
  shim.wx = wx;
  return { wx, client: createClient({ baseUrl: service.api, wx }) };
}
const paying: string[] = [];

function session(wx: WxShim): { accessToken: string; refreshToken: string } {
  return JSON.parse(wx.storage.get('wxb_session')!);
}

describe('mini-program SDK against the service (sandbox)', () => {
  it('login, me, an expired token refreshed without the page noticing, logout', async () => {
    const { wx, client } = miniProgram('sdk-alice');
    const { user, isNewUser } = await client.login();
    expect(isNewUser).toBe(true);
    await expect(client.request<User>('GET', '/users/me')).resolves.toMatchObject({
      id: user.id,
      role: 'user',
    });

    const before = session(wx);
    wx.storage.set(
      'wxb_session',
      JSON.stringify({ ...before, accessToken: service.expired(before.accessToken) }),
    );
    // A fresh client reads the stored (now expired) login, as the next launch would.
    const relaunched = createClient({ baseUrl: service.api, wx });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => relaunched.request<User>('GET', '/users/me')),
    );
    expect(answers.map((answer) => answer.id)).toEqual(Array(5).fill(user.id));
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
    expect(session(wx).refreshToken).not.toBe(before.refreshToken);

    await relaunched.logout();
    expect(wx.storage.has('wxb_session')).toBe(false);
    let error: unknown;
    await relaunched.request('GET', '/users/me').catch((caught: unknown) => (error = caught));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: ErrorCode.AUTH_REQUIRED, status: 401 });
    expect((error as ApiError).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a refresh token spent elsewhere (40103) ends in one new login, and the request succeeds', async () => {
    const { wx, client } = miniProgram('sdk-bob');
    const { user } = await client.login();
    const stolen = session(wx);
    // Someone else spends the refresh token first: the service revokes the whole login.
    const spent = await fetch(`${service.api}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refreshToken: stolen.refreshToken }),
    });
    expect(spent.status).toBe(200);
    wx.storage.set(
      'wxb_session',
      JSON.stringify({ ...stolen, accessToken: service.expired(stolen.accessToken) }),
    );
    const relaunched = createClient({ baseUrl: service.api, wx });
    await expect(relaunched.request<User>('GET', '/users/me')).resolves.toMatchObject({ id: user.id });
    expect(wx.count('login')).toBe(2);
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
  });

  it("a failing login is an ApiError with the service's code, and nothing is retried", async () => {
    const { wx, client } = miniProgram('errcode:40029');
    let error: unknown;
    await client.login().catch((caught: unknown) => (error = caught));
    expect(error).toMatchObject({ code: ErrorCode.WECHAT_CODE_INVALID, status: 400 });
    expect(wx.count('request')).toBe(1);
  });

  it("binds a phone number from the button's code", async () => {
    const { client } = miniProgram('sdk-carol');
    await client.login();
    const user = await client.bindPhone({ detail: { code: 'sdk-phone-code' } });
    expect(user.phone).toMatch(/^1\d\d\*{4}\d{4}$/);
  });

  it('the shop: an order paid through pay(), confirmed by the server', async () => {
    const admin = miniProgram('sdk-admin').client;
    await admin.login();
    const product = await admin.request<{ id: string }>('POST', '/products', {
      title: 'SDK tea',
      price: 990,
      stock: 5,
    });
    const { client } = miniProgram('sdk-dave');
    await client.login();
    const page = await client.request<{ items: { id: string }[] }>('GET', '/products?q=SDK');
    expect(page.items.map((item) => item.id)).toContain(product.id);
    const order = await client.request<{ id: string; status: string; totalAmount: number }>(
      'POST',
      '/orders',
      { items: [{ productId: product.id, quantity: 2 }] },
      { headers: { 'Idempotency-Key': 'sdk-live-order-1' } },
    );
    expect(order).toMatchObject({ status: 'pending_payment', totalAmount: 1980 });
    paying.push(order.id);
    const paid = await client.pay(order.id, { intervalMs: 100, timeoutMs: 5000 });
    expect(paid).toMatchObject({ id: order.id, status: 'paid' });
    expect(paid.transactionId).toEqual(expect.any(String));
  });

  it('subscriptions: what the user accepted becomes a quota on the server', async () => {
    const { wx, client } = miniProgram('sdk-erin');
    await client.login();
    await expect(client.subscribe(['sdk_tmpl_1', 'sdk_tmpl_2'])).resolves.toEqual({
      sdk_tmpl_1: 1,
      sdk_tmpl_2: 1,
    });
    expect(wx.count('requestSubscribeMessage')).toBe(1);
    await expect(client.request('GET', '/messages/subscriptions')).resolves.toEqual({
      quotas: { sdk_tmpl_1: 1, sdk_tmpl_2: 1 },
    });
  });

  it('decrypt: wx.login first, then the data; data from before the login is fetched again', async () => {
    const code = 'sdk-frank';
    const { wx, client } = miniProgram(code);
    // The sandbox's session key for a wx.login code (src/wechat/sandbox/sandbox-wechat-client.ts).
    const sha256 = (text: string) => createHash('sha256').update(text).digest();
    const openid = `sbx_${sha256(`openid:${code}`).toString('hex').slice(0, 28)}`;
    const sessionKey = sha256(`session:${openid}`).subarray(0, 16);
    const plain = {
      stepInfoList: [{ timestamp: 1700000000, step: 4321 }],
      watermark: { appid: 'wxsandbox000000000', timestamp: 1 },
    };
    let fetches = 0;
    // What wx.getWeRunData gives: the first answer sealed with another key, as data fetched
    // before the latest login would be; the second with the current one.
    const getWeRunData = () => {
      wx.events.push('fetch');
      fetches++;
      const key = fetches === 1 ? randomBytes(16) : sessionKey;
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-128-cbc', key, iv);
      const encryptedData = Buffer.concat([cipher.update(JSON.stringify(plain)), cipher.final()]).toString(
        'base64',
      );
      return Promise.resolve({ encryptedData, iv: iv.toString('base64') });
    };
    await expect(client.decrypt(getWeRunData)).resolves.toEqual({ stepInfoList: plain.stepInfoList });
    expect(wx.events.filter((event) => /^(login|fetch|request POST .*(login|decrypt))$/.test(event))).toEqual(
      [
        'login',
        'request POST /api/v1/auth/wechat/login',
        'fetch',
        'request POST /api/v1/wechat/decrypt',
        'fetch',
        'request POST /api/v1/wechat/decrypt',
      ],
    );
  });
});
