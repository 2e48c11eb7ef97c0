import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { authConfig, wechatConfig } from '../config/config.slices.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionKeysService } from '../session-keys/session-keys.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { toUserView } from '../users/user-view.js';
import { UsersService } from '../users/users.service.js';
import { sandboxOpenid } from '../wechat/sandbox/sandbox-wechat-client.js';
import { WECHAT_CLIENT, type WechatClient, type WechatSession } from '../wechat/wechat-client.port.js';
import type { LoginView, TokensView } from './dto/auth.dto.js';
import { SessionsService, type IssuedSession } from '../sessions/sessions.service.js';
import { AccessTokenService } from './tokens/access-token.service.js';

/** wx.login code → our own session; refresh rotation; logout. */
@Injectable()
export class AuthService {
  private readonly adminOpenids: ReadonlySet<string>;

  constructor(
    @Inject(WECHAT_CLIENT) private readonly wechat: WechatClient,
    private readonly users: UsersService,
    private readonly sessionKeys: SessionKeysService,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(authConfig.KEY) auth: ConfigType<typeof authConfig>,
    @Inject(wechatConfig.KEY) { mode }: Pick<ConfigType<typeof wechatConfig>, 'mode'>,
  ) {
    // In the sandbox, `sandbox:alice` names the user that the wx.login code "alice" becomes, so
    // trying the admin endpoints needs no hashing by hand. Live openids never look like that.
    this.adminOpenids = new Set(
      [...auth.adminOpenids].map((id) =>
        mode === 'sandbox' && id.startsWith('sandbox:') ? sandboxOpenid(id.slice('sandbox:'.length)) : id,
      ),
    );
  }

  async login(code: string, meta: RequestMeta): Promise<LoginView> {
    try {
      const result = await this.exchange(code, meta);
      this.metrics.logins.inc({ outcome: result.isNewUser ? 'new_user' : 'returning_user' });
      return result;
    } catch (error) {
      this.metrics.logins.inc({ outcome: error instanceof AppError ? `refused_${error.code}` : 'error' });
      throw error;
    }
  }

  private async exchange(code: string, meta: RequestMeta): Promise<LoginView> {
    const wechatSession = await this.wechat.code2Session(code);
    const first = await this.signIn(wechatSession, meta);
    if (first !== 'erased') return first;
    // The account was erased while this login was under way; the openid is free again, so the
    // same WeChat user signs in as a new user, as any later login would.
    const second = await this.signIn(wechatSession, meta);
    if (second === 'erased') throw new AppError(ErrorCode.CONFLICT, 'the account changed during login');
    return second;
  }

  private async signIn(wechatSession: WechatSession, meta: RequestMeta): Promise<LoginView | 'erased'> {
    const isAdmin = this.adminOpenids.has(wechatSession.openid);
    const { user, created } = await this.users.findOrCreateByOpenid(
      wechatSession.openid,
      wechatSession.unionid,
      isAdmin ? 'admin' : 'user',
      meta,
    );
    if (user.status === 'disabled') {
      await this.audit.record('login_refused', { userId: user.id, meta, detail: 'disabled' });
      throw new AppError(ErrorCode.USER_DISABLED);
    }
    if (isAdmin && user.role !== 'admin') {
      await this.users.setAuthState(user.id, { role: 'admin' });
      user.role = 'admin';
      await this.audit.record('role_changed', {
        userId: user.id,
        meta,
        detail: 'user->admin (ADMIN_OPENIDS)',
      });
    }
    return this.openSession(user, created, meta, { sessionKey: wechatSession.sessionKey });
  }

  /**
   * Our own login for a user already found: a session (and the MP session key), the last look at
   * the user's status, the audit entries, the tokens. 'erased' when an erasure committed meanwhile
   * (the session is then revoked); a disable that did is refused with 40301. The web sign-in's
   * exchange ends here too, with `via: 'oauth'` and no session key.
   */
  async openSession(
    user: UserEntity,
    created: boolean,
    meta: RequestMeta,
    options: { sessionKey?: string; via?: 'mp' | 'oauth' } = {},
  ): Promise<LoginView | 'erased'> {
    const { sessionKey, via = 'mp' } = options;
    // Each of these writes is batched with those of concurrent logins (database/batching.ts). Not
    // one transaction: a failure part-way leaves at most a key or a session whose tokens were never
    // handed out, and the client simply logs in again.
    const [, session] = await Promise.all([
      sessionKey === undefined ? undefined : this.sessionKeys.save(user.id, sessionKey),
      this.sessions.create(user.id, meta),
    ]);
    // A disable or erasure may have committed since the user was read: either it revoked this new
    // session, or this read (which waits for it) sees its outcome.
    const status = await this.users.statusAfterLogin(user.id);
    if (status !== 'active') {
      await this.sessions.revoke(session.sessionId, status === 'disabled' ? 'disabled' : 'erased');
      if (status === 'disabled') {
        await this.audit.record('login_refused', { userId: user.id, meta, detail: 'disabled' });
        throw new AppError(ErrorCode.USER_DISABLED);
      }
      if (sessionKey !== undefined) await this.sessionKeys.delete(user.id);
      return 'erased';
    }
    const entry = { userId: user.id, sessionId: session.sessionId, meta };
    await Promise.all([
      created && via === 'mp' ? this.audit.record('user_created', entry) : undefined,
      this.audit.record(via === 'mp' ? 'login' : 'oauth_login', entry),
    ]);
    return { ...this.tokensFor(session), user: toUserView(user), isNewUser: created };
  }

  async refresh(refreshToken: string, meta: RequestMeta): Promise<TokensView> {
    const session = await this.sessions.findForRefresh(refreshToken);
    const state = await this.users.getAuthState(session.userId);
    if (state?.status === 'disabled') throw new AppError(ErrorCode.USER_DISABLED);
    if (!state || state.status === 'erased') throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
    try {
      const next = await this.sessions.rotate(session, refreshToken);
      await this.audit.record('refresh', { userId: session.userId, sessionId: session.id, meta });
      return this.tokensFor(next);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.REFRESH_TOKEN_REUSED) {
        await this.audit.record('refresh_reuse', { userId: session.userId, sessionId: session.id, meta });
      }
      throw error;
    }
  }

  async logout(userId: string, sessionId: string, allDevices: boolean, meta: RequestMeta): Promise<void> {
    if (allDevices) await this.sessions.revokeAllForUser(userId, 'logout_all');
    else await this.sessions.revoke(sessionId, 'logout');
    await this.audit.record('logout', {
      userId,
      sessionId,
      meta,
      detail: allDevices ? 'all devices' : undefined,
    });
  }

  private tokensFor(session: IssuedSession): TokensView {
    return {
      accessToken: this.accessTokens.sign({ sub: session.userId, sid: session.sessionId }),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokens.ttlSeconds,
      refreshExpiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
    };
  }
}
