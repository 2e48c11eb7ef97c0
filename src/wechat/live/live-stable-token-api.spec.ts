import { Logger } from '@nestjs/common';
import { FakeWechat } from '../../../test/support/fake-wechat-http-api.js';
import { failure } from '../../../test/support/app-errors.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { LiveStableTokenApi } from './live-stable-token-api.js';
import { WechatHttp } from './wechat-http.js';

// The live adapter over the fake WeChat HTTP API: the wire format, and what WechatHttp adds to it
// (busy retries inside the time limit). The token rules above it: access-token.provider.spec.ts.

const APP_ID = 'wx0123456789abcdef';
const APP_SECRET = 'unit-test-app-secret';

async function counter(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

describe('LiveStableTokenApi', () => {
  let fake: FakeWechat;
  let metrics: MetricsService;
  let http: WechatHttp;
  let api: LiveStableTokenApi;

  beforeAll(() => Logger.overrideLogger(false));

  const start = (timeoutMs: number) => {
    metrics = new MetricsService();
    http = new WechatHttp({ apiBaseUrl: fake.url, timeoutMs }, metrics);
    api = new LiveStableTokenApi(http, { appId: APP_ID, appSecret: APP_SECRET }, metrics);
  };

  beforeEach(async () => {
    fake = await FakeWechat.start({ appId: APP_ID, appSecret: APP_SECRET });
    start(3000);
  });

  afterEach(async () => {
    await http.onApplicationShutdown();
    await fake.close();
  });

  it("asks POST /cgi-bin/stable_token with the app's credentials, never /cgi-bin/token", async () => {
    const token = await api.fetchStableToken({ forceRefresh: false, deadline: http.deadline() });
    expect(token).toEqual({ accessToken: fake.currentToken, expiresIn: 7200 });
    const forced = await api.fetchStableToken({ forceRefresh: true, deadline: http.deadline() });
    expect(forced.accessToken).toBe(fake.currentToken);
    expect(forced.accessToken).not.toBe(token.accessToken);

    const calls = fake.requests('stable_token');
    expect(calls.map((call) => [call.method, call.path])).toEqual([
      ['POST', '/cgi-bin/stable_token'],
      ['POST', '/cgi-bin/stable_token'],
    ]);
    expect(calls.map((call) => call.body)).toEqual([
      { grant_type: 'client_credential', appid: APP_ID, secret: APP_SECRET, force_refresh: false },
      { grant_type: 'client_credential', appid: APP_ID, secret: APP_SECRET, force_refresh: true },
    ]);
    expect(calls[0].headers['content-type']).toBe('application/json');
    expect(fake.log.map((call) => call.path)).not.toContain('/cgi-bin/token');
    expect(await counter(metrics, 'wechat_access_token_fetches_total', { result: 'ok' })).toBe(1);
    expect(await counter(metrics, 'wechat_access_token_fetches_total', { result: 'forced' })).toBe(1);
    expect(await counter(metrics, 'wechat_calls_total', { api: 'stable_token', errcode: '0' })).toBe(2);
  });

  it('throws an errcode as the contract maps it, and counts the fetch as an error', async () => {
    fake.failNext('stable_token', 45009);
    const quota = await failure(api.fetchStableToken({ forceRefresh: false, deadline: http.deadline() }));
    expect([quota.code, quota.retryAfter]).toEqual([ErrorCode.RATE_LIMITED, 60]);
    fake.failNext('stable_token', 40164);
    const refused = await failure(api.fetchStableToken({ forceRefresh: false, deadline: http.deadline() }));
    expect([refused.code, refused.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: 40164 }]);
    expect(await counter(metrics, 'wechat_access_token_fetches_total', { result: 'error' })).toBe(2);
    expect(await counter(metrics, 'wechat_calls_total', { api: 'stable_token', errcode: '40164' })).toBe(1);
  });

  it('retries a busy stable_token with growing backoff inside the time limit', async () => {
    fake.failNext('stable_token', -1, 3);
    const started = performance.now();
    const token = await api.fetchStableToken({ forceRefresh: false, deadline: http.deadline() });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(token.accessToken).toBe(fake.currentToken);
    const at = fake.requests('stable_token').map((call) => call.at);
    expect(at).toHaveLength(4);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // 50, 100, 200 ms (timers may fire a millisecond early).
    expect(gaps[0]).toBeGreaterThanOrEqual(48);
    expect(gaps[1]).toBeGreaterThanOrEqual(98);
    expect(gaps[2]).toBeGreaterThanOrEqual(198);
  });

  it('gives up with 502 / 50200 and wechatErrcode -1 before the time limit when WeChat stays busy', async () => {
    await http.onApplicationShutdown();
    const timeoutMs = 1000;
    start(timeoutMs);
    fake.failNext('stable_token', -1, 1000);
    const started = performance.now();
    const error = await failure(api.fetchStableToken({ forceRefresh: false, deadline: http.deadline() }));
    expect([error.code, error.data]).toEqual([ErrorCode.WECHAT_ERROR, { wechatErrcode: -1 }]);
    expect(performance.now() - started).toBeLessThan(timeoutMs + 250);
    // Retried, with backoff: a handful of tries, not a tight loop.
    expect(fake.calls('stable_token')).toBeGreaterThanOrEqual(2);
    expect(fake.calls('stable_token')).toBeLessThanOrEqual(8);
  });
});
