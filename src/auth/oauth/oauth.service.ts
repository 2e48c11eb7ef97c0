import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { loggable } from '../../common/errors/all-exceptions.filter.js';
import { AppError } from '../../common/errors/app-error.js';
import { checkAllowedPageUrl } from '../../common/http/allowed-page-url.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { RequestMeta } from '../../common/http/request-meta.js';
import { jwtConfig, officialConfig, type JwtSlice, type OfficialSlice } from '../../config/config.slices.js';
import type { OAuthProfile } from '../../users/users.service.js';
import { UsersService } from '../../users/users.service.js';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
} from '../../wechat/official-account-client.port.js';
import { AuthService } from '../auth.service.js';
import type { LoginView } from '../dto/auth.dto.js';
import {
  bindingCookie,
  BINDING_COOKIE,
  isBinding,
  newBinding,
  OAuthStateSigner,
  readCookie,
  STATE_TTL_MS,
  type OAuthScope,
  type StateRecord,
} from './oauth-state.js';
import { OneTimeStore } from './one-time-store.js';
import { locationOf } from './redirect-url.js';

export const OAUTH_PATH = '/api/v1/auth/wechat/oauth';
const WECHAT_AUTHORIZE = 'https://open.weixin.qq.com/connect/oauth2/authorize';
const TICKET_TTL_MS = 60_000;
/** WeChat's codes are short; anything longer is not one and is not sent to WeChat. */
const CODE_MAX_LENGTH = 512;
/** The codes a failed callback may carry back to the page (`#error=CODE`). */
const FRAGMENT_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.WECHAT_CODE_INVALID,
  ErrorCode.OAUTH_NO_CONSENT,
  ErrorCode.USER_DISABLED,
  ErrorCode.WECHAT_ERROR,
  ErrorCode.DEPENDENCY_UNAVAILABLE,
  ErrorCode.WECHAT_TIMEOUT,
]);

interface TicketRecord {
  userId: string;
  isNewUser: boolean;
}

/** The answer to `authorize`: where the browser goes, and the cookie the state is bound to. */
export interface Authorization {
  location: string;
  setCookie: string;
}

/**
 * Web sign-in for H5 pages in the WeChat browser, in three steps: `authorize` sends the browser to
 * WeChat with a signed single-use state bound to a cookie; `callback` (WeChat sends the browser
 * back with a code) signs the person in by the identity rules and hands the page a one-time
 * ticket in the URL fragment; `exchange` turns the ticket into our own tokens, which never appear
 * in a URL. WeChat's user access token is used once, for /sns/userinfo, and never kept.
 */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('OAuth');
  private readonly signer: OAuthStateSigner;
  private readonly redirectUri: string;
  private readonly cookie: { path: string; secure: boolean };

  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    private readonly store: OneTimeStore,
    @Inject(officialConfig.KEY)
    private readonly official: Pick<OfficialSlice, 'appId' | 'publicBaseUrl' | 'redirectAllowlist'>,
    @Inject(jwtConfig.KEY) jwt: Pick<JwtSlice, 'secret'>,
    @Optional() @Inject(WECHAT_OFFICIAL_CLIENT) private readonly client: OfficialAccountClient | null = null,
  ) {
    this.signer = new OAuthStateSigner(jwt.secret);
    const base = new URL(official.publicBaseUrl);
    this.redirectUri = `${official.publicBaseUrl}${OAUTH_PATH}/callback`;
    this.cookie = {
      path: `${base.pathname === '/' ? '' : base.pathname}${OAUTH_PATH}`,
      secure: base.protocol === 'https:',
    };
  }

  /** `redirect`: an absolute http(s) page URL (else 400 / 40000) of an allowed origin (else 40004). */
  async authorize(
    scope: OAuthScope,
    redirect: unknown,
    cookieHeader: string | undefined,
  ): Promise<Authorization> {
    const page = checkAllowedPageUrl(redirect, this.official.redirectAllowlist, 'redirect');
    // A browser already bound keeps its cookie, so two sign-ins started in two tabs both work.
    const current = readCookie(cookieHeader, BINDING_COOKIE);
    const binding = isBinding(current) ? current : newBinding();
    const record: StateRecord = { scope, redirect: page };
    const { id, state } = this.signer.issue(record, binding);
    await this.store.put(stateKey(id), JSON.stringify(record), STATE_TTL_MS);
    // WeChat matches the link strictly: these parameters, in this order, then the fragment.
    const location =
      `${WECHAT_AUTHORIZE}?appid=${this.official.appId}&redirect_uri=${encodeURIComponent(this.redirectUri)}` +
      `&response_type=code&scope=${scope}&state=${state}#wechat_redirect`;
    return { location, setCookie: bindingCookie(binding, this.cookie) };
  }

  /**
   * WeChat's return. A state that does not check out is 400 / 40005 and stays unspent (a forged
   * callback cannot burn the real one); a good one is spent before anything else, and from then on
   * every outcome goes back to the page as `#ticket=` or `#error=`.
   */
  async callback(
    code: unknown,
    state: unknown,
    cookieHeader: string | undefined,
    meta: RequestMeta,
  ): Promise<string> {
    const record = await this.spendState(state, readCookie(cookieHeader, BINDING_COOKIE));
    const page = locationOf(record.redirect);
    try {
      return `${page}#ticket=${await this.signIn(code, record.scope, meta)}`;
    } catch (error) {
      const failure = fragmentCode(error);
      if (failure === ErrorCode.INTERNAL) {
        // By kind and code only: a driver's message would quote the openid it was given.
        this.logger.error({ err: loggable(error), requestId: meta.requestId }, 'web sign-in failed');
      } else {
        this.logger.warn({ code: failure, requestId: meta.requestId }, 'web sign-in refused');
      }
      return `${page}#error=${failure}`;
    }
  }

  /** The ticket (once, within 60 s) → our own login, as the mini-program login answers it. */
  async exchange(ticket: string, meta: RequestMeta): Promise<LoginView> {
    const raw = await this.store.take(ticketKey(ticket));
    const record = raw === null ? null : parseTicket(raw);
    if (!record) throw new AppError(ErrorCode.OAUTH_TICKET_INVALID);
    let user;
    try {
      user = await this.users.getVisible(record.userId);
    } catch (error) {
      // Erased since the callback: the ticket names nobody any more.
      if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) {
        throw new AppError(ErrorCode.OAUTH_TICKET_INVALID);
      }
      throw error;
    }
    if (user.status === 'disabled') {
      await this.audit.record('login_refused', { userId: user.id, meta, detail: 'disabled' });
      throw new AppError(ErrorCode.USER_DISABLED);
    }
    const login = await this.auth.openSession(user, record.isNewUser, meta, { via: 'oauth' });
    if (login === 'erased') throw new AppError(ErrorCode.OAUTH_TICKET_INVALID);
    return login;
  }

  private async spendState(state: unknown, binding: string | null): Promise<StateRecord> {
    const refuse = () => new AppError(ErrorCode.OAUTH_STATE_INVALID);
    const id = this.signer.idOf(state);
    if (id === null || binding === null) throw refuse();
    const raw = await this.store.peek(stateKey(id));
    const record = raw === null ? null : parseState(raw);
    if (!record || !this.signer.verify(state as string, record, binding)) throw refuse();
    // Of two callbacks with one state (a reload, a replay), only the one that removes it goes on.
    if (!(await this.store.spend(stateKey(id)))) throw refuse();
    return record;
  }

  private async signIn(code: unknown, scope: OAuthScope, meta: RequestMeta): Promise<string> {
    // WeChat sends the browser back without a code when the person refused.
    if (typeof code !== 'string' || code === '') throw new AppError(ErrorCode.OAUTH_NO_CONSENT);
    if (code.length > CODE_MAX_LENGTH) throw new AppError(ErrorCode.WECHAT_CODE_INVALID);
    const client = this.officialClient();
    const grant = await client.exchangeOAuthCode(code);
    if (grant.isSnapshotUser) throw new AppError(ErrorCode.OAUTH_NO_CONSENT, 'a snapshot-page virtual user');
    let unionid = grant.unionid || undefined;
    const profile: OAuthProfile = {};
    // What WeChat says it granted decides; its answer names the scope (else the one asked for).
    const granted = grant.scope ? grant.scope.split(/[\s,]+/) : [scope];
    if (granted.includes('snsapi_userinfo')) {
      const info = await client.getOAuthUserInfo(grant.userAccessToken, grant.openid);
      profile.nickname = info.nickname;
      profile.avatarUrl = info.headimgurl;
      unionid ??= info.unionid || undefined;
    }
    const { user, created } = await this.users.signInWithOaOpenid(grant.openid, unionid, profile, meta);
    if (created) await this.audit.record('user_created', { userId: user.id, meta, detail: 'web sign-in' });
    if (user.status === 'disabled') {
      await this.audit.record('login_refused', { userId: user.id, meta, detail: 'disabled' });
      throw new AppError(ErrorCode.USER_DISABLED);
    }
    const ticket = randomBytes(32).toString('base64url');
    const record: TicketRecord = { userId: user.id, isNewUser: created };
    await this.store.put(ticketKey(ticket), JSON.stringify(record), TICKET_TTL_MS);
    return ticket;
  }

  private officialClient(): OfficialAccountClient {
    // The routes answer 404 without an official account; this is only a backstop.
    if (!this.client) throw new AppError(ErrorCode.NOT_FOUND);
    return this.client;
  }
}

const stateKey = (id: string) => `state:${id}`;
/** Tickets are kept by hash: what Redis holds cannot be handed in. */
const ticketKey = (ticket: string) => `ticket:${createHash('sha256').update(ticket).digest('hex')}`;

function parseState(raw: string): StateRecord | null {
  try {
    const value = JSON.parse(raw) as Partial<StateRecord>;
    return (value.scope === 'snsapi_base' || value.scope === 'snsapi_userinfo') &&
      typeof value.redirect === 'string'
      ? { scope: value.scope, redirect: value.redirect }
      : null;
  } catch {
    return null;
  }
}

function parseTicket(raw: string): TicketRecord | null {
  try {
    const value = JSON.parse(raw) as Partial<TicketRecord>;
    return typeof value.userId === 'string' && typeof value.isNewUser === 'boolean'
      ? { userId: value.userId, isNewUser: value.isNewUser }
      : null;
  } catch {
    return null;
  }
}

/**
 * The code a failed callback shows the page: the contract's own, WeChat's quota as a WeChat error,
 * and anything unforeseen as 50000 (logged).
 */
function fragmentCode(error: unknown): ErrorCode {
  if (!(error instanceof AppError)) return ErrorCode.INTERNAL;
  if (FRAGMENT_CODES.has(error.code)) return error.code;
  if (error.code === ErrorCode.RATE_LIMITED) return ErrorCode.WECHAT_ERROR;
  return ErrorCode.INTERNAL;
}
