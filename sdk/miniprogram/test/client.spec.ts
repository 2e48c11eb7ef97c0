import { ApiError, ErrorCode, createClient, type Timers } from '../src/index.js';
import { FakeService } from '../../test/fake-service.js';
import { WxShim, envelope, type ShimOptions } from '../../test/wx-shim.js';

function setup(shimOptions: Partial<ShimOptions> = {}, timers?: Timers) {
  const service = new FakeService();
  const wx = new WxShim({ handle: (request) => service.handle(request), ...shimOptions });
  const client = createClient({ baseUrl: service.base, wx, timers });
  return { service, wx, client };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}

describe('mini-program client: login and requests', () => {
  it('logs in with the wx.login code, keeps the tokens in wx storage and sends the bearer token', async () => {
    const { wx, client } = setup({ loginCode: () => 'alice' });
    const { user } = await client.login();
    expect(user.id).toBe('user-of-alice');
    expect(JSON.parse(wx.storage.get('wxb_session')!)).toEqual({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(wx.requests[0].data).toEqual({ code: 'alice' });

    await expect(client.request('GET', '/users/me')).resolves.toEqual({
      id: 'user-of-alice',
      nickname: null,
    });
    expect(wx.requests[1].header.Authorization).toBe('Bearer at-1');
  });

  it('two logins at once share one wx.login and one login at the service', async () => {
    const { wx, client } = setup();
    const [first, second] = await Promise.all([client.login(), client.login()]);
    expect(second).toEqual(first);
    expect(wx.count('login')).toBe(1);
    expect(wx.count('request POST /api/v1/auth/wechat/login')).toBe(1);
  });

  it('uses the global wx when none is given', async () => {
    const service = new FakeService();
    const shim = new WxShim({ handle: (request) => service.handle(request) });
    (globalThis as { wx?: unknown }).wx = shim;
    try {
      await createClient({ baseUrl: service.base }).login();
      expect(shim.count('login')).toBe(1);
    } finally {
      delete (globalThis as { wx?: unknown }).wx;
    }
  });

  it('uses the login kept in storage by an earlier launch', async () => {
    const { service, wx } = setup();
    const tokens = service.issue('user-kept');
    wx.storage.set('wxb_session', JSON.stringify(tokens));
    const client = createClient({ baseUrl: service.base, wx });
    await expect(client.request('GET', '/users/me')).resolves.toMatchObject({ id: 'user-kept' });
    expect(wx.count('login')).toBe(0);
  });

  it('turns an error envelope into an ApiError with its code, status, message, request id and data', async () => {
    const { service, client } = setup();
    service.routes.set('POST /orders', () =>
      envelope({ productIds: ['p1'] }, ErrorCode.NOT_ENOUGH_STOCK, 'not enough stock'),
    );
    await client.login();
    const error = await failure(client.request('POST', '/orders', { items: [] }));
    expect(error).toMatchObject({
      code: 40910,
      status: 409,
      message: 'not enough stock',
      requestId: 'req-40910',
      data: { productIds: ['p1'] },
    });
  });

  it('reports an answer that is not the envelope, and no answer at all, with client-side codes', async () => {
    const { service, client, wx } = setup();
    await client.login();
    service.routes.set('GET /proxy', () => ({ statusCode: 502, data: '<html>Bad gateway</html>' }));
    expect(await failure(client.request('GET', '/proxy'))).toMatchObject({
      code: ErrorCode.BAD_RESPONSE,
      status: 502,
      data: '<html>Bad gateway</html>',
    });
    service.routes.set('GET /down', () => Promise.reject(new Error('connect ECONNREFUSED')));
    expect(await failure(client.request('GET', '/down'))).toMatchObject({
      code: ErrorCode.NETWORK,
      status: 0,
    });
    expect(wx.count('request GET /api/v1/down')).toBe(1);
  });

  it('refuses PATCH, which wx.request cannot send, without sending anything', async () => {
    const { client, wx } = setup();
    await client.login();
    expect(await failure(client.request('PATCH', '/users/me', { nickname: 'A' }))).toMatchObject({
      code: ErrorCode.WX_API_FAILED,
      status: 0,
    });
    expect(wx.requests).toHaveLength(1);
  });

  it('logout with an expired token refreshes first, so that the login really ends on the server', async () => {
    const { service, client, wx } = setup();
    await client.login();
    service.expireAll();
    await client.logout();
    expect(wx.events.slice(2)).toEqual([
      'request POST /api/v1/auth/logout',
      'request POST /api/v1/auth/refresh',
      'request POST /api/v1/auth/logout',
    ]);
    expect(wx.requests.at(-1)!.header.Authorization).toBe('Bearer at-2');
    expect(wx.storage.has('wxb_session')).toBe(false);
  });

  it('logout forgets the login here even when the service cannot be reached, and says so', async () => {
    const { service, client, wx } = setup();
    await client.login();
    service.handle = () => Promise.reject(new Error('offline'));
    await expect(client.logout()).rejects.toMatchObject({ code: ErrorCode.NETWORK });
    expect(wx.storage.has('wxb_session')).toBe(false);
  });

  it('logout ends the login on the server and forgets it', async () => {
    const { client, wx } = setup();
    await client.login();
    await client.logout();
    expect(wx.requests.at(-1)).toMatchObject({ method: 'POST', header: { Authorization: 'Bearer at-1' } });
    expect(wx.storage.has('wxb_session')).toBe(false);
    expect(await failure(client.request('GET', '/users/me'))).toMatchObject({
      code: ErrorCode.AUTH_REQUIRED,
    });
  });
});

describe('mini-program client: silent refresh', () => {
  it('20 concurrent requests with an expired token make exactly one refresh, and all succeed', async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.request('GET', '/users/me')));
    expect(answers).toHaveLength(20);
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
    expect(wx.count('request GET /api/v1/users/me')).toBe(40);
    expect(wx.count('login')).toBe(1);
    expect(JSON.parse(wx.storage.get('wxb_session')!).refreshToken).toBe('rt-2');
  });

  it('a refresh answered 40103 (reused) makes one new login for all callers, then one retry each', async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.REFRESH_TOKEN_REUSED, 'refresh token reused');
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.request('GET', '/users/me')));
    expect(answers.every((answer) => (answer as { id: string }).id === 'user-of-user-1')).toBe(true);
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
    expect(wx.count('login')).toBe(2);
    expect(wx.count('request GET /api/v1/users/me')).toBe(10);
  });

  it('a refresh answered 40102 (login expired) also signs in again once', async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.REFRESH_TOKEN_INVALID, 'refresh token invalid');
    await expect(client.request('GET', '/users/me')).resolves.toMatchObject({ id: 'user-of-user-1' });
    expect(wx.count('login')).toBe(2);
  });

  it('does not loop when the new login fails too: the login error reaches every caller', async () => {
    let loginFails: string | null = null;
    const { service, wx, client } = setup({ loginFails: () => loginFails });
    await client.login();
    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.REFRESH_TOKEN_REUSED, 'refresh token reused');
    loginFails = 'login:fail network';
    const errors = await Promise.all(
      Array.from({ length: 3 }, () => failure(client.request('GET', '/users/me'))),
    );
    for (const error of errors) expect(error).toMatchObject({ code: ErrorCode.WX_API_FAILED });
    expect(wx.count('login')).toBe(2);
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
    expect(wx.count('request GET /api/v1/users/me')).toBe(3);
  });

  it('does not loop when the service refuses the new login', async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.REFRESH_TOKEN_REUSED, 'refresh token reused');
    service.loginAnswer = () => envelope(null, ErrorCode.USER_DISABLED, 'user disabled');
    expect(await failure(client.request('GET', '/users/me'))).toMatchObject({
      code: ErrorCode.USER_DISABLED,
      status: 403,
    });
    expect(wx.events.filter((event) => event !== 'login')).toEqual([
      'request POST /api/v1/auth/wechat/login',
      'request GET /api/v1/users/me',
      'request POST /api/v1/auth/refresh',
      'request POST /api/v1/auth/wechat/login',
    ]);
  });

  it('a retry that is refused again reaches the caller: one refresh, one retry, no more', async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    service.routes.set('GET /always-expired', () =>
      envelope(null, ErrorCode.ACCESS_TOKEN_EXPIRED, 'access token expired'),
    );
    expect(await failure(client.request('GET', '/always-expired'))).toMatchObject({ code: 40101 });
    expect(wx.count('request GET /api/v1/always-expired')).toBe(2);
    expect(wx.count('request POST /api/v1/auth/refresh')).toBe(1);
  });

  it("a refresh that fails for another reason (rate limit) is the callers' error and keeps the login", async () => {
    const { service, wx, client } = setup();
    await client.login();
    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.TOO_MANY_REQUESTS, 'too many requests');
    expect(await failure(client.request('GET', '/users/me'))).toMatchObject({ code: 42900 });
    expect(wx.count('login')).toBe(1);
    expect(wx.storage.has('wxb_session')).toBe(true);
  });
});

describe('mini-program client: phone, decryption, payment, subscriptions', () => {
  it("bindPhone sends the button event's code; a refusal sends nothing", async () => {
    const { service, wx, client } = setup();
    service.routes.set('POST /users/me/phone', (request) =>
      envelope({ id: 'u', phone: `masked:${(request.data as { code: string }).code}` }),
    );
    await client.login();
    await expect(client.bindPhone({ detail: { code: 'phone-code' } })).resolves.toMatchObject({
      phone: 'masked:phone-code',
    });
    const sent = wx.requests.length;
    expect(
      await failure(client.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } })),
    ).toMatchObject({
      code: ErrorCode.WX_API_FAILED,
      data: { errMsg: 'getPhoneNumber:fail user deny' },
    });
    expect(wx.requests).toHaveLength(sent);
  });

  it("decrypt calls wx.login (and the service's login) before the data is fetched", async () => {
    const { service, wx, client } = setup();
    service.routes.set('POST /wechat/decrypt', () => envelope({ stepInfoList: [] }));
    const fetchData = () => {
      wx.events.push('fetch');
      return Promise.resolve({ encryptedData: 'ZGF0YQ==', iv: 'aXZpdml2aXZpdml2aXZpdg==' });
    };
    await expect(client.decrypt(fetchData)).resolves.toEqual({ stepInfoList: [] });
    expect(wx.events).toEqual([
      'login',
      'request POST /api/v1/auth/wechat/login',
      'fetch',
      'request POST /api/v1/wechat/decrypt',
    ]);
  });

  it('decrypt fetches again after 40003 (no login) and logs in again after 40104, once each', async () => {
    const { service, wx, client } = setup();
    const answers = [ErrorCode.DATA_FETCHED_BEFORE_LOGIN, ErrorCode.SESSION_KEY_STALE, 0];
    service.routes.set('POST /wechat/decrypt', () => {
      const code = answers.shift()!;
      return code ? envelope(null, code, 'no') : envelope({ ok: true });
    });
    const fetchData = () => {
      wx.events.push('fetch');
      return Promise.resolve({ encryptedData: 'ZGF0YQ==', iv: 'aXZpdml2aXZpdml2aXZpdg==' });
    };
    // 40003 then 40104: the second fetch came back stale, so a new login and a third fetch.
    await expect(client.decrypt(fetchData)).resolves.toEqual({ ok: true });
    expect(wx.events.filter((event) => event === 'login' || event === 'fetch')).toEqual([
      'login',
      'fetch',
      'fetch',
      'login',
      'fetch',
    ]);
  });

  it('pay asks for the parameters, calls wx.requestPayment, and polls the order until the server says paid', async () => {
    let clock = 0;
    const timers: Timers = { now: () => clock, sleep: (ms) => ((clock += ms), Promise.resolve()) };
    const { service, wx, client } = setup({}, timers);
    const params = { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=p', signType: 'RSA', paySign: 's' };
    const statuses = ['pending_payment', 'pending_payment', 'paid'];
    service.routes.set('POST /orders/:id/pay', () => envelope(params));
    service.routes.set('GET /orders/:id', () =>
      envelope({ id: 'o1', status: statuses.shift(), totalAmount: 100 }),
    );
    await client.login();
    await expect(client.pay('o1', { intervalMs: 500 })).resolves.toMatchObject({ id: 'o1', status: 'paid' });
    expect(wx.events.slice(2)).toEqual([
      'request POST /api/v1/orders/o1/pay',
      'requestPayment',
      'request GET /api/v1/orders/o1',
      'request GET /api/v1/orders/o1',
      'request GET /api/v1/orders/o1',
    ]);
    expect(clock).toBe(1000);
  });

  it('pay gives up at its time limit with the order as the server last had it', async () => {
    let clock = 0;
    const timers: Timers = { now: () => clock, sleep: (ms) => ((clock += ms), Promise.resolve()) };
    const { service, wx, client } = setup({}, timers);
    service.routes.set('POST /orders/:id/pay', () => envelope({}));
    service.routes.set('GET /orders/:id', () => envelope({ id: 'o1', status: 'pending_payment' }));
    await client.login();
    const error = await failure(client.pay('o1', { timeoutMs: 3000, intervalMs: 1000 }));
    expect(error).toMatchObject({ code: ErrorCode.PAY_TIMEOUT, data: { status: 'pending_payment' } });
    expect(wx.count('request GET /api/v1/orders/o1')).toBe(4);
  });

  it('pay reports a closed payment sheet and does not poll', async () => {
    const { service, wx, client } = setup({ requestPayment: () => Promise.reject(new Error('cancel')) });
    service.routes.set('POST /orders/:id/pay', () => envelope({}));
    await client.login();
    expect(await failure(client.pay('o1'))).toMatchObject({ code: ErrorCode.PAY_CANCELLED });
    expect(wx.count('request GET')).toBe(0);
  });

  it('subscribe reports what the user answered for the templates asked', async () => {
    const { service, wx, client } = setup({ subscribeAnswer: () => ({ t1: 'accept', t2: 'reject' }) });
    service.routes.set('POST /messages/subscriptions', (request) => {
      const { results } = request.data as { results: Record<string, string> };
      return envelope({
        quotas: Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r === 'accept' ? 1 : 0])),
      });
    });
    await client.login();
    await expect(client.subscribe(['t1', 't2'])).resolves.toEqual({ t1: 1, t2: 0 });
    expect(wx.requests.at(-1)!.data).toEqual({ results: { t1: 'accept', t2: 'reject' } });
  });
});
