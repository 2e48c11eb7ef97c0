import { ApiError, ErrorCode, createH5Client, type BrowserEnv, type JsSdk } from '../src/index.js';
import { FakeService } from '../../test/fake-service.js';
import { envelope } from '../../test/wx-shim.js';

/** A page's window in memory: address bar, history, localStorage, fetch and the JS-SDK. */
function page(href: string, service = new FakeService()) {
  const events: string[] = [];
  const storage = new Map<string, string>();
  const configs: unknown[] = [];
  let jssdkError: string | null = null;
  const jssdk: JsSdk = {
    config: (options) => {
      configs.push(options);
      queueMicrotask(() => (jssdkError ? onError?.({ errMsg: jssdkError }) : onReady?.()));
    },
    ready: (callback) => (onReady = callback),
    error: (callback) => (onError = callback),
  };
  let onReady: (() => void) | undefined;
  let onError: ((result: { errMsg: string }) => void) | undefined;
  const location = {
    href,
    get hash() {
      const at = this.href.indexOf('#');
      return at < 0 ? '' : this.href.slice(at);
    },
    assign: (url: string) => events.push(`assign ${url}`),
  };
  const env: BrowserEnv = {
    location,
    history: {
      replaceState: (_data, _unused, url) => {
        events.push(`replaceState ${url}`);
        location.href = url;
      },
    },
    localStorage: {
      getItem: (key) => storage.get(key) ?? null,
      setItem: (key, value) => void storage.set(key, value),
      removeItem: (key) => void storage.delete(key),
    },
    fetch: async (url, init) => {
      events.push(`fetch ${init.method} ${url}`);
      const answer = await service.handle({
        method: init.method,
        url,
        header: init.headers,
        data: init.body === undefined ? undefined : JSON.parse(init.body),
      });
      return { status: answer.statusCode, text: () => Promise.resolve(JSON.stringify(answer.data)) };
    },
    wx: jssdk,
  };
  const client = createH5Client({ baseUrl: service.base, env });
  return {
    client,
    env,
    events,
    storage,
    configs,
    service,
    failJsSdk: (errMsg: string) => (jssdkError = errMsg),
  };
}

describe('H5 client', () => {
  it('signIn sends the browser to authorize with the scope and the page without its fragment', () => {
    const { client, events } = page('https://h5.test/shop?from=menu#section-2');
    void client.signIn({ scope: 'snsapi_userinfo' });
    expect(events).toEqual([
      'assign https://api.test/api/v1/auth/wechat/oauth/authorize?scope=snsapi_userinfo&redirect=https%3A%2F%2Fh5.test%2Fshop%3Ffrom%3Dmenu',
    ]);
  });

  it('back with #ticket: clears the fragment first, then exchanges the ticket and keeps the tokens', async () => {
    const { client, events, storage, service } = page('https://h5.test/shop?from=menu#ticket=T-1');
    let ticket = '';
    const handle = service.handle;
    service.handle = async (request) => {
      if (request.url.endsWith('/oauth/exchange')) {
        ticket = (request.data as { ticket: string }).ticket;
        return envelope({ ...service.issue('web-user'), user: { id: 'web-user' }, isNewUser: true });
      }
      return handle(request);
    };
    await expect(client.signIn()).resolves.toEqual({ user: { id: 'web-user' }, isNewUser: true });
    expect(ticket).toBe('T-1');
    expect(events).toEqual([
      'replaceState https://h5.test/shop?from=menu',
      'fetch POST https://api.test/api/v1/auth/wechat/oauth/exchange',
    ]);
    expect(JSON.parse(storage.get('wxb_session')!)).toMatchObject({ accessToken: 'at-1' });
    await expect(client.request('GET', '/users/me')).resolves.toMatchObject({ id: 'web-user' });
  });

  it('back with #error: clears the fragment and fails with the code, without an exchange', async () => {
    const { client, events } = page('https://h5.test/shop#error=40006');
    let error: unknown;
    await client.signIn().catch((caught: unknown) => (error = caught));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: ErrorCode.NO_CONSENT, status: 400 });
    expect(events).toEqual(['replaceState https://h5.test/shop']);
  });

  it("an expired token is refreshed once; a login that cannot be refreshed is the page's error to handle", async () => {
    const { client, env, events, service, storage } = page('https://h5.test/');
    storage.set('wxb_session', JSON.stringify(service.issue('web-user')));
    service.expireAll();
    await Promise.all([client.request('GET', '/users/me'), client.request('GET', '/users/me')]);
    expect(events.filter((event) => event.endsWith('/auth/refresh'))).toHaveLength(1);

    service.expireAll();
    service.refreshAnswer = () => envelope(null, ErrorCode.REFRESH_TOKEN_REUSED, 'refresh token reused');
    await expect(client.request('GET', '/users/me')).rejects.toMatchObject({ code: 40103 });
    expect(storage.has('wxb_session')).toBe(false);
    expect(env.location.href).toBe('https://h5.test/');
  });

  it('configureJsSdk signs the address without its fragment and resolves on wx.ready', async () => {
    const { client, events, configs, service } = page('https://h5.test/a?b=1#top');
    const handle = service.handle;
    service.handle = async (request) =>
      request.url.includes('/jssdk-config')
        ? envelope({ appId: 'wxoa', timestamp: 1700000000, nonceStr: 'n'.repeat(16), signature: 'sig' })
        : handle(request);
    await expect(client.configureJsSdk(['chooseImage'])).resolves.toMatchObject({ signature: 'sig' });
    expect(events).toEqual([
      'fetch GET https://api.test/api/v1/wechat/official/jssdk-config?url=https%3A%2F%2Fh5.test%2Fa%3Fb%3D1',
    ]);
    expect(configs).toEqual([
      {
        debug: false,
        appId: 'wxoa',
        timestamp: 1700000000,
        nonceStr: 'nnnnnnnnnnnnnnnn',
        signature: 'sig',
        jsApiList: ['chooseImage'],
      },
    ]);
  });

  it("configureJsSdk reports wx.config's failure", async () => {
    const { client, service, failJsSdk } = page('https://h5.test/');
    service.handle = async () => envelope({ appId: 'wxoa', timestamp: 1, nonceStr: 'n', signature: 'bad' });
    failJsSdk('config:invalid signature');
    await expect(client.configureJsSdk([])).rejects.toMatchObject({
      code: ErrorCode.WX_API_FAILED,
      data: { errMsg: 'config:invalid signature' },
    });
  });
});
