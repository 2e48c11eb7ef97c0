import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { InMemoryStableTokenApi } from '../../../test/support/in-memory-stable-token-api.js';
import { failure } from '../../../test/support/app-errors.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { wechatError } from '../wechat-errors.js';
import { AccessTokenProvider } from './access-token.provider.js';
import { MemoryAccessTokenStore } from './memory-access-token-store.js';

// The token rules, against WeChat's token side in this process (no HTTP) and a clock the tests move.
// The live adapter's wire format and busy retries: live/live-stable-token-api.spec.ts.

const TIMEOUT_MS = 3000;

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

const deadline = (timeoutMs = TIMEOUT_MS) => Date.now() + timeoutMs;

describe('AccessTokenProvider', () => {
  let wechat: InMemoryStableTokenApi;
  let store: MemoryAccessTokenStore;

  beforeAll(() => Logger.overrideLogger(false));

  /** One instance of the service: a provider of its own, on the store it shares with the others. */
  const instance = () => {
    const provider = new AccessTokenProvider(wechat, store, new MetricsService(), { timeoutMs: TIMEOUT_MS });
    return {
      provider,
      /** A call carrying access_token as the live client makes it (getuserphonenumber, say). */
      call: async (): Promise<void> => {
        const answer = await provider.withToken(deadline(), (token) => wechat.callWithToken(token));
        if (answer.errcode) throw wechatError('getuserphonenumber', answer.errcode);
      },
    };
  };

  beforeEach(() => {
    clock.offset = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clock.offset);
    wechat = new InMemoryStableTokenApi();
    store = new MemoryAccessTokenStore(() => Date.now());
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('single flight', () => {
    it('makes exactly one stable_token fetch for 100 concurrent callers, all handed that token', async () => {
      const { provider } = instance();
      const release = wechat.hold();
      const callers = Array.from({ length: 100 }, () => provider.getToken(deadline()));
      await wechat.waitForFetches(1);
      await settle();
      expect(wechat.fetches).toHaveLength(1);
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens)).toEqual(new Set([wechat.currentToken]));
      expect(wechat.forceFlags()).toEqual([false]);
    });

    it('makes one fetch for 100 concurrent callers spread over two instances sharing the store', async () => {
      const a = instance();
      const b = instance();
      const release = wechat.hold();
      const callers = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).provider.getToken(deadline()));
      await wechat.waitForFetches(1);
      await settle();
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens)).toEqual(new Set([wechat.currentToken]));
      expect(wechat.fetches).toHaveLength(1);
    });

    it('serves the cached token until 5 minutes before it expires, then fetches once', async () => {
      const { provider } = instance();
      const first = await provider.getToken(deadline());
      clock.advance((7200 - 300 - 1) * 1000);
      const cached = await Promise.all(Array.from({ length: 100 }, () => provider.getToken(deadline())));
      expect(new Set(cached)).toEqual(new Set([first]));
      expect(wechat.fetches).toHaveLength(1);

      clock.advance(2000);
      const renewed = await Promise.all(Array.from({ length: 100 }, () => provider.getToken(deadline())));
      expect(wechat.fetches).toHaveLength(2);
      expect(new Set(renewed)).toEqual(new Set([wechat.currentToken]));
      expect(renewed[0]).not.toBe(first);
    });

    it('keeps a token handed out with little lifetime left (expires_in 345) for half of it', async () => {
      wechat.tokenLifetimeSec = 345;
      const { provider } = instance();
      const first = await provider.getToken(deadline());
      clock.advance(170_000);
      expect(await provider.getToken(deadline())).toBe(first);
      expect(wechat.fetches).toHaveLength(1);
      clock.advance(5000);
      expect(await provider.getToken(deadline())).not.toBe(first);
      expect(wechat.fetches).toHaveLength(2);
    });

    it('lets every waiter share a failed fetch, caches nothing, and fetches again on the next call', async () => {
      const { provider } = instance();
      wechat.nextFetch({ errcode: 40164 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => provider.getToken(deadline())),
      );
      expect(wechat.fetches).toHaveLength(1);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as AppError;
        expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40164 }]);
      }
      expect(await store.get()).toBeNull();
      expect(await provider.getToken(deadline())).toBe(wechat.currentToken);
      expect(wechat.fetches).toHaveLength(2);
    });

    it('gives a caller waiting for another instance’s fetch 504 / 50400 at its own deadline', async () => {
      const a = instance();
      const b = instance();
      const release = wechat.hold();
      const holder = a.provider.getToken(deadline());
      await wechat.waitForFetches(1);
      const started = performance.now();
      const error = await failure(b.provider.getToken(deadline(300)));
      expect(error.code).toBe(ErrorCode.WECHAT_TIMEOUT);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(performance.now() - started).toBeLessThan(1000);
      release();
      expect(await holder).toBe(wechat.currentToken);
      expect(wechat.fetches).toHaveLength(1);
    });
  });

  describe('compare-and-drop on 40001 / 40014 / 42001', () => {
    it.each([40001, 40014, 42001])(
      'on %i drops the refused token, fetches a new one and repeats the call once',
      async (errcode) => {
        const { call } = instance();
        await call();
        const refused = wechat.revokeToken(errcode, true);

        await call();
        const fresh = wechat.currentToken;
        expect(fresh).not.toBe(refused);
        expect(wechat.tokensUsed).toEqual([refused, refused, fresh]);
        expect(wechat.forceFlags()).toEqual([false, false]);
        expect((await store.get())?.token).toBe(fresh);
      },
    );

    it('keeps a newer token that another caller stored meanwhile, and repeats the call with it', async () => {
      const other = instance();
      const { call } = instance();
      await call();
      const refused = wechat.currentToken!;
      let newer = '';
      // While the call is under way, another instance sees the token fail and stores a new one.
      wechat.nextCall({
        before: async () => {
          newer = wechat.issueElsewhere();
          await store.set({ token: newer, refreshAt: Date.now() + 3_600_000 });
        },
      });

      await call();
      expect(wechat.tokensUsed).toEqual([refused, refused, newer]);
      expect((await store.get())?.token).toBe(newer);
      // No fetch of our own: the newer token was taken from the store, not dropped.
      expect(wechat.fetches).toHaveLength(1);
      expect(await other.provider.getToken(deadline())).toBe(newer);
      expect(wechat.fetches).toHaveLength(1);
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
      const { call } = instance();
      await call();
      wechat.nextCall({ errcode: 40001 }, 100);

      const error = await failure(call());
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.tokensUsed).toHaveLength(3); // the first call, then the call and its one repeat

      // Again at once: one call, no repeat (force_refresh was used less than 30 s ago), no loop.
      const again = await failure(call());
      expect([again.code, again.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.tokensUsed).toHaveLength(4);
      expect(wechat.forceFlags().filter((flag) => flag)).toHaveLength(1);
    });

    it('leaves the cached token alone for an errcode that is not about the token', async () => {
      const { call } = instance();
      await call();
      const token = wechat.currentToken;
      wechat.nextCall({ errcode: 40029 });
      expect((await failure(call())).code).toBe(ErrorCode.WECHAT_CODE_INVALID);
      expect(wechat.tokensUsed).toHaveLength(2);
      expect((await store.get())?.token).toBe(token);
      expect(await store.wasRefused(token!)).toBe(false);
      expect(wechat.fetches).toHaveLength(1);
    });
  });

  describe('force_refresh', () => {
    it('is never asked for while WeChat hands out a token other than the refused one', async () => {
      const { call } = instance();
      for (let i = 0; i < 3; i++) {
        await call();
        wechat.revokeToken(40001, true);
      }
      await call();
      expect(wechat.forceFlags()).toEqual([false, false, false, false]);
    });

    it('is asked for only when WeChat hands back the refused token, at most once per 30 s', async () => {
      const { call } = instance();
      await call();
      const first = wechat.revokeToken(40001); // WeChat keeps handing it out

      await call();
      const second = wechat.currentToken;
      expect(second).not.toBe(first);
      expect(wechat.forceFlags()).toEqual([false, false, true]);
      expect(wechat.tokensUsed).toEqual([first, first, second]);

      // 20 s later the new token is refused the same way: no second force_refresh yet.
      clock.advance(20_000);
      wechat.revokeToken(40001);
      const error = await failure(call());
      expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40001 }]);
      expect(wechat.forceFlags()).toEqual([false, false, true, false]);
      expect(await store.get()).toBeNull(); // the refused token was not cached again

      // 31 s after the first one, a caller that never saw the refusal: WeChat still hands back the
      // refused token, and force_refresh is allowed again.
      clock.advance(11_000);
      await call();
      expect(wechat.forceFlags()).toEqual([false, false, true, false, false, true]);
      expect(wechat.tokensUsed.at(-1)).toBe(wechat.currentToken);
    });

    it('is asked for once when 100 concurrent calls on two instances meet the same refused token', async () => {
      const a = instance();
      const b = instance();
      await a.call();
      const refused = wechat.revokeToken(40001);

      await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).call()));
      expect(wechat.forceFlags()).toEqual([false, false, true]);
      const fresh = wechat.currentToken;
      const used = wechat.tokensUsed.slice(1);
      expect(new Set(used)).toEqual(new Set([refused, fresh]));
      // Every call that met the refused token was repeated once with the new one, none more.
      expect(used.filter((t) => t === fresh)).toHaveLength(100);
    });

    it('is asked for by the next fetcher on another instance that did not see the refusal itself', async () => {
      const a = instance();
      const b = instance();
      await a.call();
      const refused = wechat.revokeToken(40001);
      // Instance A meets the refusal; force_refresh was just used elsewhere, so A gives up...
      expect(await store.tryClaimForceRefresh(30_000)).toBe(true);
      expect((await failure(a.call())).code).toBe(ErrorCode.WECHAT_ERROR);
      // ...and 30 s later instance B, which never saw the token fail, must not cache it again.
      clock.advance(30_000);
      const token = await b.provider.getToken(deadline());
      expect(token).not.toBe(refused);
      expect(wechat.forceFlags()).toEqual([false, false, false, true]);
      expect((await store.get())?.token).toBe(token);
    });
  });
});
