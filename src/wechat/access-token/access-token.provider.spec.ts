import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { InMemoryWechat } from '../../../test/support/in-memory-wechat.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { AppConfig } from '../../config/app-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { NodeWechatCrypto } from '../crypto/node-wechat-crypto.js';
import { LiveWechatClient } from '../live/live-wechat-client.js';
import { WechatHttp } from '../live/wechat-http.js';
import type { AccessTokenStore } from './access-token-store.port.js';
import { AccessTokenProvider } from './access-token.provider.js';
import { MemoryAccessTokenStore } from './memory-access-token-store.js';

// The provider, the live client and WechatHttp as they run in the service, against an in-memory
// WeChat (state and script in this process, served on a loopback port) and a clock the tests move.

const APP_ID = 'wx0123456789abcdef';
const APP_SECRET = 'unit-test-app-secret';

/** Date.now() = real time + an offset the test advances (timers keep running in real time). */
const clock = {
  offset: 0,
  advance(ms: number): void {
    this.offset += ms;
  },
};
const realNow = Date.now.bind(Date);

/** Lets every caller started so far run as far as it can without WeChat answering. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, got success');
}

interface Instance {
  http: WechatHttp;
  provider: AccessTokenProvider;
  client: LiveWechatClient;
  metrics: MetricsService;
}

const instances: Instance[] = [];

/** One service instance: its own WechatHttp, provider and client, on a store it may share. */
function instance(store: AccessTokenStore, apiBaseUrl: string, timeoutMs = 3000): Instance {
  const wechat = { mode: 'live', appId: APP_ID, appSecret: APP_SECRET, apiBaseUrl, timeoutMs };
  const config = { get: () => wechat } as unknown as ConfigService<AppConfig, true>;
  const metrics = new MetricsService();
  const http = new WechatHttp(config, metrics);
  const provider = new AccessTokenProvider(store, http, metrics, config);
  const client = new LiveWechatClient(http, provider, new NodeWechatCrypto(), config);
  instances.push({ http, provider, client, metrics });
  return { http, provider, client, metrics };
}

async function counter(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

describe('AccessTokenProvider', () => {
  let wechat: InMemoryWechat;
  let store: MemoryAccessTokenStore;

  beforeAll(() => Logger.overrideLogger(false));

  /** An instance of the service talking to this test's WeChat. */
  const service = (timeoutMs?: number) => instance(store, wechat.url, timeoutMs);

  beforeEach(async () => {
    clock.offset = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clock.offset);
    wechat = await InMemoryWechat.start({ appId: APP_ID, appSecret: APP_SECRET });
    store = new MemoryAccessTokenStore(() => Date.now());
  });

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.http.onApplicationShutdown()));
    await wechat.close();
    jest.restoreAllMocks();
  });

  describe('single flight', () => {
    it('makes exactly one stable_token fetch for 100 concurrent callers, all handed that token', async () => {
      const { provider, http } = service();
      const release = wechat.hold('stable_token');
      const callers = Array.from({ length: 100 }, () => provider.getToken(http.deadline()));
      await wechat.waitForCalls('stable_token', 1);
      await settle();
      expect(wechat.count('stable_token')).toBe(1);
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens)).toEqual(new Set([wechat.currentToken]));
      expect(wechat.count('stable_token')).toBe(1);

      // Always stable_token, as WeChat documents it (never /cgi-bin/token).
      const [call] = wechat.callsOf('stable_token');
      expect(call.method).toBe('POST');
      expect(call.path).toBe('/cgi-bin/stable_token');
      expect(call.body).toEqual({
        grant_type: 'client_credential',
        appid: APP_ID,
        secret: APP_SECRET,
        force_refresh: false,
      });
      expect(wechat.calls.map((c) => c.path)).not.toContain('/cgi-bin/token');
    });

    it('makes one fetch for 100 concurrent callers spread over two instances sharing the store', async () => {
      const a = service();
      const b = service();
      const release = wechat.hold('stable_token');
      const callers = Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).provider.getToken(a.http.deadline()),
      );
      await wechat.waitForCalls('stable_token', 1);
      await settle();
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens)).toEqual(new Set([wechat.currentToken]));
      expect(wechat.count('stable_token')).toBe(1);
    });

    it('serves the cached token until 5 minutes before it expires, then fetches once', async () => {
      const { provider, http } = service();
      const first = await provider.getToken(http.deadline());
      clock.advance((7200 - 300 - 1) * 1000);
      const cached = await Promise.all(Array.from({ length: 100 }, () => provider.getToken(http.deadline())));
      expect(new Set(cached)).toEqual(new Set([first]));
      expect(wechat.count('stable_token')).toBe(1);

      clock.advance(2000);
      const renewed = await Promise.all(
        Array.from({ length: 100 }, () => provider.getToken(http.deadline())),
      );
      expect(wechat.count('stable_token')).toBe(2);
      expect(new Set(renewed)).toEqual(new Set([wechat.currentToken]));
      expect(renewed[0]).not.toBe(first);
    });

    it('keeps a token handed out with little lifetime left (expires_in 345) for half of it', async () => {
      wechat.tokenLifetimeSec = 345;
      const { provider, http } = service();
      const first = await provider.getToken(http.deadline());
      clock.advance(170_000);
      expect(await provider.getToken(http.deadline())).toBe(first);
      expect(wechat.count('stable_token')).toBe(1);
      clock.advance(5000);
      expect(await provider.getToken(http.deadline())).not.toBe(first);
      expect(wechat.count('stable_token')).toBe(2);
    });

    it('lets every waiter share a failed fetch, caches nothing, and fetches again on the next call', async () => {
      const { provider, http } = service();
      wechat.next('stable_token', { errcode: 40164 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => provider.getToken(http.deadline())),
      );
      expect(wechat.count('stable_token')).toBe(1);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as AppError;
        expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40164 }]);
      }
      expect(await store.get()).toBeNull();
      expect(await provider.getToken(http.deadline())).toBe(wechat.currentToken);
      expect(wechat.count('stable_token')).toBe(2);
    });
  });

  describe('compare-and-drop on 40001 / 40014 / 42001', () => {
    it.each([40001, 40014, 42001])(
      'on %i drops the refused token, fetches a new one and repeats the call once',
      async (errcode) => {
        const { client } = service();
        await client.getPhoneNumber('phone-code-1');
        const refused = wechat.refuse(errcode, { rotate: true });

        const info = await client.getPhoneNumber('phone-code-2');
        expect(info.purePhoneNumber).toBe('13800138000');
        const fresh = wechat.currentToken;
        expect(fresh).not.toBe(refused);
        expect(wechat.tokensUsed('getuserphonenumber')).toEqual([refused, refused, fresh]);
        expect(wechat.count('stable_token')).toBe(2);
        expect(wechat.forceFlags()).toEqual([false, false]);
        expect((await store.get())?.token).toBe(fresh);
      },
    );

    it('keeps a newer token that another caller stored meanwhile, and repeats the call with it', async () => {
      const other = service();
      const { client } = service();
      await client.getPhoneNumber('phone-code-1');
      const refused = wechat.currentToken!;
      let newer = '';
      // While the phone call is under way, another instance sees the token fail and stores a new one.
      wechat.next('getuserphonenumber', {
        before: async () => {
          newer = wechat.issueElsewhere();
          await store.set({ token: newer, refreshAt: Date.now() + 3_600_000 });
        },
      });

      await client.getPhoneNumber('phone-code-2');
      expect(wechat.tokensUsed('getuserphonenumber')).toEqual([refused, refused, newer]);
      expect((await store.get())?.token).toBe(newer);
      // No fetch of our own: the newer token was taken from the store, not dropped.
      expect(wechat.count('stable_token')).toBe(1);
      expect(await other.provider.getToken(other.http.deadline())).toBe(newer);
      expect(wechat.count('stable_token')).toBe(1);
    });

    it('drops in the store only the token that failed', async () => {
      await store.set({ token: 'newer', refreshAt: Date.now() + 60_000 });
      await store.dropIfCurrent('older');
      expect((await store.get())?.token).toBe('newer');
      expect(await store.wasRefused('older')).toBe(true);
      await store.dropIfCurrent('newer');
      expect(await store.get()).toBeNull();
      expect(await store.wasRefused('newer')).toBe(true);
    });

    it('repeats the call once and never loops when WeChat refuses every token', async () => {
      const { client } = service();
      await client.getPhoneNumber('phone-code-1');
      wechat.next('getuserphonenumber', { errcode: 40001 }, 100);

      const error = await failure(client.getPhoneNumber('phone-code-2'));
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.count('getuserphonenumber')).toBe(3); // the first binding, then the call and its one repeat

      // Again at once: one call, no repeat (force_refresh was used less than 30 s ago), no loop.
      const again = await failure(client.getPhoneNumber('phone-code-3'));
      expect([again.code, again.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.count('getuserphonenumber')).toBe(4);
      expect(wechat.forceFlags().filter((flag) => flag === true)).toHaveLength(1);
    });

    it('leaves the cached token alone for an errcode that is not about the token', async () => {
      const { client } = service();
      await client.getPhoneNumber('phone-code-1');
      const token = wechat.currentToken;
      wechat.next('getuserphonenumber', { errcode: 40029 });
      expect((await failure(client.getPhoneNumber('used-code'))).code).toBe(ErrorCode.WECHAT_CODE_INVALID);
      expect(wechat.count('getuserphonenumber')).toBe(2);
      expect((await store.get())?.token).toBe(token);
      expect(await store.wasRefused(token!)).toBe(false);
      expect(wechat.count('stable_token')).toBe(1);
    });
  });

  describe('busy WeChat (-1)', () => {
    it('retries a busy stable_token with growing backoff inside the time limit', async () => {
      const { provider, http } = service(3000);
      wechat.next('stable_token', { errcode: -1 }, 3);
      const started = performance.now();
      const token = await provider.getToken(http.deadline());
      expect(performance.now() - started).toBeLessThan(3000);
      expect(token).toBe(wechat.currentToken);
      const at = wechat.callsOf('stable_token').map((call) => call.at);
      expect(at).toHaveLength(4);
      const gaps = at.slice(1).map((t, i) => t - at[i]);
      // 50, 100, 200 ms (timers may fire a millisecond early).
      expect(gaps[0]).toBeGreaterThanOrEqual(48);
      expect(gaps[1]).toBeGreaterThanOrEqual(98);
      expect(gaps[2]).toBeGreaterThanOrEqual(198);
    });

    it('retries a busy phone call with the same token, which stays cached', async () => {
      const { client } = service();
      await client.getPhoneNumber('phone-code-1');
      const token = wechat.currentToken;
      wechat.next('getuserphonenumber', { errcode: -1 });
      await client.getPhoneNumber('phone-code-2');
      expect(wechat.tokensUsed('getuserphonenumber')).toEqual([token, token, token]);
      expect(wechat.count('stable_token')).toBe(1);
      expect((await store.get())?.token).toBe(token);
    });

    it('gives up with 502 / 50200 and wechatErrcode -1 before the time limit when WeChat stays busy', async () => {
      const timeoutMs = 1000;
      const { provider, http } = service(timeoutMs);
      wechat.next('stable_token', { errcode: -1 }, 1000);
      const started = performance.now();
      const error = await failure(provider.getToken(http.deadline()));
      const elapsed = performance.now() - started;
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: -1 }]);
      expect(elapsed).toBeLessThan(timeoutMs + 250);
      // Retried, with backoff: a handful of tries, not a tight loop.
      expect(wechat.count('stable_token')).toBeGreaterThanOrEqual(3);
      expect(wechat.count('stable_token')).toBeLessThanOrEqual(8);
      expect(await store.get()).toBeNull();
    });
  });

  describe('force_refresh', () => {
    it('is never asked for while WeChat hands out a token other than the refused one', async () => {
      const { client } = service();
      for (let i = 0; i < 3; i++) {
        await client.getPhoneNumber(`phone-code-${i}`);
        wechat.refuse(40001, { rotate: true });
      }
      await client.getPhoneNumber('phone-code-last');
      expect(wechat.count('stable_token')).toBe(4);
      expect(wechat.forceFlags()).toEqual([false, false, false, false]);
    });

    it('is asked for only when WeChat hands back the refused token, at most once per 30 s', async () => {
      const { client, metrics } = service();
      await client.getPhoneNumber('phone-code-1');
      const first = wechat.refuse(40001); // WeChat keeps handing it out

      await client.getPhoneNumber('phone-code-2');
      const second = wechat.currentToken;
      expect(second).not.toBe(first);
      expect(wechat.forceFlags()).toEqual([false, false, true]);
      expect(wechat.tokensUsed('getuserphonenumber')).toEqual([first, first, second]);
      expect(await counter(metrics, 'wechat_access_token_fetches_total', { result: 'forced' })).toBe(1);

      // 20 s later the new token is refused the same way: no second force_refresh yet.
      clock.advance(20_000);
      wechat.refuse(40001);
      const error = await failure(client.getPhoneNumber('phone-code-3'));
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.forceFlags()).toEqual([false, false, true, false]);
      expect(await store.get()).toBeNull(); // the refused token was not cached again

      // 31 s after the first one, a caller that never saw the refusal: WeChat still hands back the
      // refused token, and force_refresh is allowed again.
      clock.advance(11_000);
      await client.getPhoneNumber('phone-code-4');
      expect(wechat.forceFlags()).toEqual([false, false, true, false, false, true]);
      expect(wechat.tokensUsed('getuserphonenumber').at(-1)).toBe(wechat.currentToken);
      expect(await counter(metrics, 'wechat_access_token_fetches_total', { result: 'forced' })).toBe(2);
    });

    it('is asked for once when 100 concurrent calls on two instances meet the same refused token', async () => {
      const a = service();
      const b = service();
      await a.client.getPhoneNumber('phone-code-0');
      const refused = wechat.refuse(40001);

      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).client.getPhoneNumber(`phone-code-${i + 1}`)),
      );
      expect(results).toHaveLength(100);
      expect(wechat.forceFlags()).toEqual([false, false, true]);
      const fresh = wechat.currentToken;
      const used = wechat.tokensUsed('getuserphonenumber');
      expect(new Set(used)).toEqual(new Set([refused, fresh]));
      // Every call that met the refused token was repeated once with the new one, none more.
      expect(used.filter((t) => t === fresh)).toHaveLength(100);
    });

    it('is asked for by the next fetcher on another instance that did not see the refusal itself', async () => {
      const a = service();
      const b = service();
      await a.client.getPhoneNumber('phone-code-1');
      const refused = wechat.refuse(40001);
      // Instance A meets the refusal; force_refresh was just used elsewhere, so A gives up...
      expect(await store.tryClaimForceRefresh(30_000)).toBe(true);
      expect((await failure(a.client.getPhoneNumber('phone-code-2'))).code).toBe(ErrorCode.WECHAT_ERROR);
      // ...and 30 s later instance B, which never saw the token fail, must not cache it again.
      clock.advance(30_000);
      const token = await b.provider.getToken(b.http.deadline());
      expect(token).not.toBe(refused);
      expect(wechat.forceFlags()).toEqual([false, false, false, true]);
      expect((await store.get())?.token).toBe(token);
    });
  });
});
