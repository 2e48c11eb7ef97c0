/**
 * The example H5 page (examples/h5, with the BUILT H5 package) in headless Chromium against the
 * BUILT service in sandbox mode. Playwright plays the two parts that cannot run here: WeChat's
 * authorize page (it sends the browser back to the service's callback with a sandbox code, as
 * WeChat would) and the JS-SDK script (a stand-in that records what wx.config was given).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serve } from '../../../examples/h5/serve.mjs';
import { LiveService, freePort } from '../live-service.js';

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const JSSDK_STANDIN = `
  window.wx = {
    config(options) { window.__wxConfig = options; setTimeout(() => this._ready && this._ready(), 0); },
    ready(callback) { this._ready = callback; },
    error() {},
  };`;

const service = new LiveService();
let pages: Server;
let pageOrigin = '';
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const pagePort = await freePort();
  pageOrigin = `http://127.0.0.1:${pagePort}`;
  pages = await serve(pagePort);
  const [launched] = await Promise.all([
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
    service.start({
      CORS_ORIGINS: pageOrigin,
      OAUTH_REDIRECT_ALLOWLIST: pageOrigin,
      RATE_LIMIT_ENABLED: 'false',
    }),
  ]);
  browser = launched;
  page = await browser.newPage();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => pages?.close(done));
  await service.stop();
}, 15_000);

/** Keeps a screenshot of the page when the test body fails, and says where it is. */
async function withScreenshot(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = `${ARTIFACTS}${name}.png`;
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    (error as Error).message += `\n(screenshot: ${file}; page at ${page.url()})`;
    throw error;
  }
}

it('signs in through the sandbox OAuth round trip and configures the JS-SDK with a valid signature', () =>
  withScreenshot('sdk-h5-sign-in', async () => {
    const navigations: string[] = [];
    const visited: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) navigations.push(request.url());
    });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    });
    await page.route('https://res.wx.qq.com/**', (route) =>
      route.fulfill({ contentType: 'text/javascript', body: JSSDK_STANDIN }),
    );
    // WeChat's part: consent given, back to the service's callback with a code and the state.
    await page.route('https://open.weixin.qq.com/**', (route) => {
      const asked = new URL(route.request().url());
      const callback = new URL(asked.searchParams.get('redirect_uri')!);
      callback.searchParams.set('code', 'userinfo:sdk-web');
      callback.searchParams.set('state', asked.searchParams.get('state')!);
      return route.fulfill({ status: 302, headers: { Location: callback.toString() } });
    });

    const start = `${pageOrigin}/?api=${encodeURIComponent(service.api)}`;
    await page.goto(start);
    await page.locator('#jssdk', { hasText: 'JS-SDK ready' }).waitFor({ timeout: 15_000 });

    // It went through the service and WeChat and came back with a ticket in the fragment…
    // A redirect fulfilled by Playwright shows as two request events of the same URL.
    const hops = navigations.map((url) => url.split('?')[0]).filter((url, i, all) => url !== all[i - 1]);
    expect(hops).toEqual([
      `${pageOrigin}/`,
      `${service.api}/auth/wechat/oauth/authorize`,
      'https://open.weixin.qq.com/connect/oauth2/authorize',
      `${service.api}/auth/wechat/oauth/callback`,
      `${pageOrigin}/`,
    ]);
    expect(visited).toContainEqual(expect.stringMatching(/#ticket=[A-Za-z0-9_-]+$/));
    // …which is gone from the address bar now.
    expect(page.url()).toBe(start);
    await expect(
      page.evaluate(() => (globalThis as unknown as { location: URL }).location.hash),
    ).resolves.toBe('');

    const stored = await page.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } })
        .localStorage;
      return JSON.parse(storage.getItem('wxb_session') ?? 'null');
    });
    expect(stored).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    const me = JSON.parse((await page.locator('#me').textContent()) ?? '{}');
    expect(me).toMatchObject({ id: expect.any(String), nickname: 'sdk-web', role: 'user' });

    const config = await page.evaluate(
      () => (globalThis as unknown as { __wxConfig: Record<string, unknown> }).__wxConfig,
    );
    expect(config).toMatchObject({ jsApiList: ['updateAppMessageShareData', 'chooseImage'] });
    // The sandbox's jsapi_ticket is derived from the official account's app id.
    const digest = createHash('sha256').update(`jsapi_ticket:${config.appId}`).digest('base64url');
    const ticket = `sbx_ticket_${digest.slice(0, 40)}`;
    const signed = `jsapi_ticket=${ticket}&noncestr=${config.nonceStr}&timestamp=${config.timestamp}&url=${start}`;
    expect(config.signature).toBe(createHash('sha1').update(signed).digest('hex'));
  }));
