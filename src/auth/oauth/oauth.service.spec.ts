import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type {
  OAuthGrant,
  OAuthUserInfo,
  OfficialAccountClient,
} from '../../wechat/official-account-client.port.js';
import { JWT, META, outcome, unitWorld } from '../../../test/support/unit-world.js';
import { OAuthService } from './oauth.service.js';
import { MemoryOneTimeStore } from './one-time-store.js';

const APP_ID = 'wxoa0123456789abcd';
const PAGE = 'https://h5.example.com/after?from=menu';

/**
 * The official account's OAuth calls, scripted: a code `name` signs in as `oa_name`; with
 * `userinfo:` the grant carries unionid `u_name`; `snapshot:` is a snapshot-page user; `fail:<code>`
 * fails the exchange with that contract code.
 */
class FakeOfficialAccount implements Partial<OfficialAccountClient> {
  readonly appId = APP_ID;
  readonly exchanged: string[] = [];
  readonly userinfoCalls: Array<{ token: string; openid: string }> = [];
  userinfoFailure: AppError | null = null;

  async exchangeOAuthCode(code: string): Promise<OAuthGrant> {
    this.exchanged.push(code);
    const [kind, name = kind] = code.split(':');
    if (kind === 'fail') throw new AppError(Number(name) as ErrorCode);
    return {
      openid: `oa_${name}`,
      scope: kind === 'userinfo' ? 'snsapi_userinfo' : 'snsapi_base',
      unionid: kind === 'userinfo' ? `u_${name}` : undefined,
      isSnapshotUser: kind === 'snapshot',
      userAccessToken: `uat_secret_${name}`,
    };
  }

  async getOAuthUserInfo(token: string, openid: string): Promise<OAuthUserInfo> {
    this.userinfoCalls.push({ token, openid });
    if (this.userinfoFailure) throw this.userinfoFailure;
    return {
      openid,
      nickname: `nick of ${openid}`,
      headimgurl: 'https://thirdwx.qlogo.cn/mmopen/x/132',
      unionid: `u_${openid.slice(3)}`,
    };
  }
}

function world(options: { publicBaseUrl?: string } = {}) {
  const w = unitWorld();
  let now = Date.now();
  const store = new MemoryOneTimeStore(() => now);
  const wechat = new FakeOfficialAccount();
  const oauth = new OAuthService(
    w.users,
    w.auth,
    w.audit,
    store,
    {
      appId: APP_ID,
      publicBaseUrl: options.publicBaseUrl ?? 'https://api.example.com',
      redirectAllowlist: ['https://h5.example.com'],
    },
    JWT,
    wechat as unknown as OfficialAccountClient,
  );
  const advance = (ms: number) => (now += ms);
  /** authorize, as a browser: the state from WeChat's link and the cookie it was given. */
  const start = async (
    scope: 'snsapi_base' | 'snsapi_userinfo' = 'snsapi_base',
    redirect = PAGE,
    cookie?: string,
  ) => {
    const { location, setCookie } = await oauth.authorize(scope, redirect, cookie);
    const state = new URL(location).searchParams.get('state')!;
    return { location, setCookie, state, cookie: setCookie.split(';')[0] };
  };
  const ticketOf = (location: string) => /#ticket=([^&]+)$/.exec(location)?.[1];
  const errorOf = (location: string) => /#error=(\d+)$/.exec(location)?.[1];
  return { ...w, store, wechat, oauth, advance, start, ticketOf, errorOf };
}

describe('OAuthService: authorize', () => {
  it('answers WeChat’s link exactly, parameters in order, with a state and a bound cookie', async () => {
    const w = world();
    const { location, setCookie, state } = await w.start('snsapi_userinfo');
    expect(location).toBe(
      `https://open.weixin.qq.com/connect/oauth2/authorize?appid=${APP_ID}` +
        `&redirect_uri=${encodeURIComponent('https://api.example.com/api/v1/auth/wechat/oauth/callback')}` +
        `&response_type=code&scope=snsapi_userinfo&state=${state}#wechat_redirect`,
    );
    expect(state).toMatch(/^[A-Za-z0-9]{1,128}$/);
    expect(setCookie).toMatch(
      /^wxb_oauth=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/api\/v1\/auth\/wechat\/oauth; HttpOnly; SameSite=Lax; Secure$/,
    );
  });

  it('over http no Secure; a prefix of PUBLIC_BASE_URL is part of the cookie path and redirect_uri', async () => {
    const w = world({ publicBaseUrl: 'http://127.0.0.1:3000/svc' });
    const { location, setCookie } = await w.start();
    expect(setCookie).toMatch(/; Path=\/svc\/api\/v1\/auth\/wechat\/oauth; HttpOnly; SameSite=Lax$/);
    expect(new URL(location).searchParams.get('redirect_uri')).toBe(
      'http://127.0.0.1:3000/svc/api/v1/auth/wechat/oauth/callback',
    );
  });

  it('refuses a redirect whose origin is not listed, or with user info: 40004', async () => {
    const w = world();
    for (const redirect of [
      'https://evil.example.com/',
      'http://h5.example.com/',
      'https://a@h5.example.com/',
    ]) {
      expect(await outcome(w.oauth.authorize('snsapi_base', redirect, undefined))).toBe(
        ErrorCode.REDIRECT_NOT_ALLOWED,
      );
    }
  });

  it('keeps the cookie a browser already has, so two tabs can sign in at once', async () => {
    const w = world();
    const first = await w.start();
    const second = await w.start('snsapi_base', PAGE, first.cookie);
    expect(second.cookie).toBe(first.cookie);
    const a = await w.oauth.callback('ann', first.state, first.cookie, META);
    const b = await w.oauth.callback('ann', second.state, second.cookie, META);
    expect(w.ticketOf(a)).toBeDefined();
    expect(w.ticketOf(b)).toBeDefined();
  });
});

describe('OAuthService: callback', () => {
  it('a good state: spent, the person signed in, #ticket= a one-time ticket; no WeChat token kept', async () => {
    const w = world();
    const s = await w.start();
    const location = await w.oauth.callback('ann', s.state, s.cookie, META);
    expect(location.startsWith(`${PAGE}#ticket=`)).toBe(true);
    const ticket = w.ticketOf(location)!;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(ticket, 'base64url')).toHaveLength(32);
    expect(w.wechat.userinfoCalls).toEqual([]);
    const stored = JSON.stringify([...w.repos.users.rows.values()]);
    expect(stored).not.toContain('uat_secret');
    expect(await outcome(w.oauth.callback('ann', s.state, s.cookie, META))).toBe(
      ErrorCode.OAUTH_STATE_INVALID,
    );
  });

  it('a bad state is 40005 and is not spent: the real browser still signs in with it', async () => {
    const w = world();
    const s = await w.start();
    const other = await w.start();
    const altered = s.state.slice(0, -1) + (s.state.endsWith('0') ? '1' : '0');
    for (const [state, cookie] of [
      [altered, s.cookie],
      [s.state, other.cookie],
      [s.state, undefined],
      [s.state, 'wxb_oauth=short'],
      [undefined, s.cookie],
      [['a', 'b'], s.cookie],
      ['', s.cookie],
    ] as Array<[unknown, string | undefined]>) {
      expect(await outcome(w.oauth.callback('ann', state, cookie, META))).toBe(ErrorCode.OAUTH_STATE_INVALID);
    }
    expect(w.wechat.exchanged).toEqual([]);
    expect(w.ticketOf(await w.oauth.callback('ann', s.state, s.cookie, META))).toBeDefined();
  });

  it('a state older than 10 minutes is 40005', async () => {
    const w = world();
    const s = await w.start();
    w.advance(600_001);
    expect(await outcome(w.oauth.callback('ann', s.state, s.cookie, META))).toBe(
      ErrorCode.OAUTH_STATE_INVALID,
    );
  });

  it('of concurrent callbacks with one state, one goes on', async () => {
    const w = world();
    const s = await w.start();
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => w.oauth.callback('ann', s.state, s.cookie, META)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(w.wechat.exchanged).toEqual(['ann']);
  });

  it.each([
    ['no code (the person refused)', undefined, '40006'],
    ['an empty code', '', '40006'],
    ['a snapshot-page virtual user', 'snapshot:ann', '40006'],
    ['a code WeChat calls invalid or used', 'fail:40001', '40001'],
    ['a WeChat error', 'fail:50200', '50200'],
    ['the breaker open', 'fail:50300', '50300'],
    ['a WeChat timeout', 'fail:50400', '50400'],
    ['WeChat’s quota', 'fail:42900', '50200'],
    ['a code too long to be one', 'x'.repeat(513), '40001'],
  ])('%s: the state is spent and the page gets #error=', async (_what, code, expected) => {
    const w = world();
    const s = await w.start();
    const location = await w.oauth.callback(code, s.state, s.cookie, META);
    expect(location).toBe(`${PAGE}#error=${expected}`);
    expect(await outcome(w.oauth.callback('ann', s.state, s.cookie, META))).toBe(
      ErrorCode.OAUTH_STATE_INVALID,
    );
    expect(w.repos.users.rows.size).toBe(0);
  });

  it('a disabled user: #error=40301, audited, no ticket', async () => {
    const w = world();
    const s1 = await w.start();
    const ticket = w.ticketOf(await w.oauth.callback('dan', s1.state, s1.cookie, META))!;
    const { user } = await w.oauth.exchange(ticket, META);
    w.repos.users.rows.get(user.id)!.status = 'disabled';
    await w.bus.publish('users', [user.id]);
    const s2 = await w.start();
    expect(await w.oauth.callback('dan', s2.state, s2.cookie, META)).toBe(`${PAGE}#error=40301`);
    expect(w.repos.audit.events(user.id)).toContain('login_refused');
  });

  it('snsapi_userinfo: /sns/userinfo fills nickname and avatar of a new user, and gives the unionid', async () => {
    const w = world();
    const s = await w.start('snsapi_userinfo');
    const ticket = w.ticketOf(await w.oauth.callback('userinfo:eve', s.state, s.cookie, META))!;
    expect(w.wechat.userinfoCalls).toEqual([{ token: 'uat_secret_eve', openid: 'oa_eve' }]);
    const login = await w.oauth.exchange(ticket, META);
    expect(login.user).toMatchObject({
      nickname: 'nick of oa_eve',
      avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/x/132',
    });
    expect(w.repos.users.rows.get(login.user.id)).toMatchObject({ oaOpenid: 'oa_eve', unionid: 'u_eve' });
  });

  it('snsapi_userinfo failing: the sign-in stops (a unionid may be missing), #error= its code', async () => {
    const w = world();
    w.wechat.userinfoFailure = new AppError(ErrorCode.WECHAT_TIMEOUT);
    const s = await w.start('snsapi_userinfo');
    expect(await w.oauth.callback('userinfo:fay', s.state, s.cookie, META)).toBe(`${PAGE}#error=50400`);
    expect(w.repos.users.rows.size).toBe(0);
  });

  it('the scope WeChat says it granted decides whether /sns/userinfo is read', async () => {
    const w = world();
    const asked = await w.start('snsapi_userinfo');
    expect(w.ticketOf(await w.oauth.callback('flo', asked.state, asked.cookie, META))).toBeDefined();
    expect(w.wechat.userinfoCalls).toEqual([]);
    const base = await w.start('snsapi_base');
    expect(w.ticketOf(await w.oauth.callback('userinfo:flo', base.state, base.cookie, META))).toBeDefined();
    expect(w.wechat.userinfoCalls).toEqual([{ token: 'uat_secret_flo', openid: 'oa_flo' }]);
  });

  it('an unforeseen failure: #error=50000', async () => {
    const w = world();
    w.users.signInWithOaOpenid = () => Promise.reject(new TypeError('boom'));
    const s = await w.start();
    expect(await w.oauth.callback('gus', s.state, s.cookie, META)).toBe(`${PAGE}#error=50000`);
  });
});

describe('OAuthService: exchange', () => {
  it('the ticket → tokens, user and isNewUser as login; once; audited as a web sign-in', async () => {
    const w = world();
    const s = await w.start();
    const ticket = w.ticketOf(await w.oauth.callback('hal', s.state, s.cookie, META))!;
    const login = await w.oauth.exchange(ticket, META);
    expect(login).toMatchObject({ tokenType: 'Bearer', isNewUser: true });
    const claims = JSON.parse(Buffer.from(login.accessToken.split('.')[1], 'base64url').toString()) as {
      sub: string;
    };
    expect(claims.sub).toBe(login.user.id);
    expect(w.repos.sessions.ofUser(login.user.id)).toHaveLength(1);
    expect(w.repos.audit.events(login.user.id)).toEqual(['user_created', 'oauth_login']);
    expect(w.repos.audit.rows[0].detail).toBe('web sign-in');
    expect(await outcome(w.oauth.exchange(ticket, META))).toBe(ErrorCode.OAUTH_TICKET_INVALID);

    const again = await w.start();
    const second = await w.oauth.exchange(
      w.ticketOf(await w.oauth.callback('hal', again.state, again.cookie, META))!,
      META,
    );
    expect(second).toMatchObject({ isNewUser: false, user: { id: login.user.id } });
  });

  it('a ticket older than 60 s, or unknown, is 40105', async () => {
    const w = world();
    const s = await w.start();
    const ticket = w.ticketOf(await w.oauth.callback('ivy', s.state, s.cookie, META))!;
    w.advance(60_001);
    expect(await outcome(w.oauth.exchange(ticket, META))).toBe(ErrorCode.OAUTH_TICKET_INVALID);
    expect(await outcome(w.oauth.exchange('made-up', META))).toBe(ErrorCode.OAUTH_TICKET_INVALID);
  });

  it('of concurrent exchanges of one ticket, one wins', async () => {
    const w = world();
    const s = await w.start();
    const ticket = w.ticketOf(await w.oauth.callback('jay', s.state, s.cookie, META))!;
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => w.oauth.exchange(ticket, META)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(w.repos.sessions.rows.size).toBe(1);
  });

  it('a user disabled since the callback is 40301; erased, 40105', async () => {
    const w = world();
    const admin = await w.auth.login('root', META);
    const s1 = await w.start();
    const t1 = w.ticketOf(await w.oauth.callback('kay', s1.state, s1.cookie, META))!;
    const s2 = await w.start();
    const t2 = w.ticketOf(await w.oauth.callback('kay', s2.state, s2.cookie, META))!;
    const userId = [...w.repos.users.rows.values()].find((u) => u.oaOpenid === 'oa_kay')!.id;
    await w.admin.update(admin.user.id, userId, { status: 'disabled' }, META);
    expect(await outcome(w.oauth.exchange(t1, META))).toBe(ErrorCode.USER_DISABLED);
    await w.admin.erase(admin.user.id, userId, META);
    expect(await outcome(w.oauth.exchange(t2, META))).toBe(ErrorCode.OAUTH_TICKET_INVALID);
    // That person signing in again is a new user.
    const s3 = await w.start();
    const login = await w.oauth.exchange(
      w.ticketOf(await w.oauth.callback('kay', s3.state, s3.cookie, META))!,
      META,
    );
    expect(login.isNewUser).toBe(true);
    expect(login.user.id).not.toBe(userId);
  });
});

describe('OAuthService: log lines', () => {
  it('name no openid, unionid, code, state, ticket or WeChat token, whatever happens', async () => {
    const lines: unknown[] = [];
    const spies = (['log', 'warn', 'error'] as const).map((level) =>
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        lines.push(args);
      }),
    );
    try {
      const w = world();
      const secrets: string[] = [];
      for (const code of ['userinfo:lia', 'fail:40001', 'fail:50400', 'snapshot:lia', undefined]) {
        const s = await w.start('snsapi_userinfo');
        const location = await w.oauth.callback(code, s.state, s.cookie, META);
        secrets.push(s.state, s.cookie.split('=')[1], w.ticketOf(location) ?? 'none');
      }
      w.users.signInWithOaOpenid = () =>
        Promise.reject(
          Object.assign(new Error("Duplicate entry 'oa_lia' for key"), { driverError: { code: 'X' } }),
        );
      const s = await w.start();
      await w.oauth.callback('lia', s.state, s.cookie, META);
      expect(lines.length).toBeGreaterThan(0);
      const text = JSON.stringify(lines);
      for (const secret of ['oa_lia', 'u_lia', 'uat_secret', 'userinfo:lia', ...secrets]) {
        expect([secret, text.includes(secret)]).toEqual([secret, false]);
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
  });
});
