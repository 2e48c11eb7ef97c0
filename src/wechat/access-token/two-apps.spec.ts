import { Logger } from '@nestjs/common';
import { InMemoryStableTokenApi } from '../../../test/support/in-memory-stable-token-api.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { StableTokenApi, type StableToken } from './stable-token-api.port.js';
import { AccessTokenProvider } from './access-token.provider.js';
import { MemoryAccessTokenStore } from './memory-access-token-store.js';

// Two WeChat apps (the mini-program and the official account) and the official account's
// jsapi_ticket, each an AccessTokenProvider of its own over a store of its own: nothing is shared
// between them, and each is fetched once however many callers ask at once, on however many instances.

const TIMEOUT_MS = 3000;
const deadline = () => Date.now() + TIMEOUT_MS;

/** getticket in the shape of a token fetch: counts its fetches, answers after `release()`. */
class TicketApi extends StableTokenApi {
  fetches = 0;
  private gate: Promise<void> = Promise.resolve();
  private onFetch!: () => void;
  /** Resolves at the first fetch. */
  readonly fetched = new Promise<void>((resolve) => (this.onFetch = resolve));
  constructor(private readonly tokens: AccessTokenProvider) {
    super();
  }
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return release;
  }
  async fetchStableToken(): Promise<StableToken> {
    this.fetches++;
    this.onFetch();
    const token = await this.tokens.getToken(deadline());
    await this.gate;
    return { accessToken: `ticket-for-${token}`, expiresIn: 7200 };
  }
}

describe('AccessTokenProvider for two apps and a ticket', () => {
  beforeAll(() => Logger.overrideLogger(false));

  /** The stores every instance shares (Redis in production: one namespace per credential). */
  const shared = () => ({
    mp: new MemoryAccessTokenStore(),
    oa: new MemoryAccessTokenStore(),
    ticket: new MemoryAccessTokenStore(),
  });

  function instance(
    stores: ReturnType<typeof shared>,
    wechat: { mp: InMemoryStableTokenApi; oa: InMemoryStableTokenApi },
  ) {
    const metrics = new MetricsService();
    const mp = new AccessTokenProvider(wechat.mp, stores.mp, metrics, { timeoutMs: TIMEOUT_MS });
    const oa = new AccessTokenProvider(wechat.oa, stores.oa, metrics, { timeoutMs: TIMEOUT_MS });
    const ticketApi = new TicketApi(oa);
    const ticket = new AccessTokenProvider(ticketApi, stores.ticket, metrics, {
      timeoutMs: TIMEOUT_MS,
      holds: 'jsapi_ticket',
    });
    return { mp, oa, ticket, ticketApi };
  }

  it('keeps each app’s token in its own cache, one fetch per app for 100 concurrent callers on two instances', async () => {
    const wechat = { mp: new InMemoryStableTokenApi(), oa: new InMemoryStableTokenApi() };
    const stores = shared();
    const a = instance(stores, wechat);
    const b = instance(stores, wechat);
    const releaseMp = wechat.mp.hold();
    const releaseOa = wechat.oa.hold();
    const mpCalls = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).mp.getToken(deadline()));
    const oaCalls = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).oa.getToken(deadline()));
    await Promise.all([wechat.mp.waitForFetches(1), wechat.oa.waitForFetches(1)]);
    releaseOa();
    releaseMp();
    const [mpTokens, oaTokens] = await Promise.all([Promise.all(mpCalls), Promise.all(oaCalls)]);
    expect(new Set(mpTokens)).toEqual(new Set([wechat.mp.currentToken]));
    expect(new Set(oaTokens)).toEqual(new Set([wechat.oa.currentToken]));
    expect(wechat.mp.currentToken).not.toBe(wechat.oa.currentToken);
    expect([wechat.mp.fetches.length, wechat.oa.fetches.length]).toEqual([1, 1]);
    expect((await stores.mp.get())?.token).toBe(wechat.mp.currentToken);
    expect((await stores.oa.get())?.token).toBe(wechat.oa.currentToken);
  });

  it('drops and refetches only the app whose token was refused', async () => {
    const wechat = { mp: new InMemoryStableTokenApi(), oa: new InMemoryStableTokenApi() };
    const { mp, oa } = instance(shared(), wechat);
    await mp.withToken(deadline(), (token) => wechat.mp.callWithToken(token));
    await oa.withToken(deadline(), (token) => wechat.oa.callWithToken(token));
    const oaBefore = wechat.oa.currentToken;
    wechat.mp.revokeToken(40001, true);
    const answer = await mp.withToken(deadline(), (token) => wechat.mp.callWithToken(token));
    expect(answer.errcode).toBe(0);
    expect(wechat.mp.fetches).toHaveLength(2);
    expect(wechat.oa.fetches).toHaveLength(1);
    expect(await oa.getToken(deadline())).toBe(oaBefore);
  });

  it('fetches the ticket once for 200 concurrent callers on two instances, with the official token', async () => {
    const wechat = { mp: new InMemoryStableTokenApi(), oa: new InMemoryStableTokenApi() };
    const stores = shared();
    const a = instance(stores, wechat);
    const b = instance(stores, wechat);
    const releaseA = a.ticketApi.hold();
    const releaseB = b.ticketApi.hold();
    const callers = Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).ticket.getToken(deadline()));
    await Promise.race([a.ticketApi.fetched, b.ticketApi.fetched]);
    // Every other caller, on both instances, gets as far as it can while the fetch is held.
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    releaseA();
    releaseB();
    const tickets = await Promise.all(callers);
    expect(a.ticketApi.fetches + b.ticketApi.fetches).toBe(1);
    expect(new Set(tickets)).toEqual(new Set([`ticket-for-${wechat.oa.currentToken}`]));
    expect(wechat.mp.fetches).toHaveLength(0);
    // Cached until 5 minutes before its expires_in: the next callers get it from the store.
    expect(await b.ticket.getToken(deadline())).toBe(tickets[0]);
    expect((await stores.ticket.get())!.refreshAt - Date.now()).toBeGreaterThan((7200 - 300 - 5) * 1000);
    expect((await stores.ticket.get())!.refreshAt - Date.now()).toBeLessThanOrEqual((7200 - 300) * 1000);
  });
});
