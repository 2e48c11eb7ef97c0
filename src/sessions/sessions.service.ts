import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { InvalidatedCache } from '../common/invalidation/invalidated-cache.js';
import { INVALIDATION_BUS, type InvalidationBus } from '../common/invalidation/invalidation-bus.port.js';
import { jwtConfig } from '../config/config.slices.js';
import type { Transaction } from '../database/unit-of-work.js';
import type { LoginSessionEntity, RevokeReason } from './login-session.entity.js';
import { RefreshTokenCodec } from './refresh-token.js';
import { SessionRepository } from './session.repository.js';

interface SessionState {
  userId: string;
  /** epoch ms of the login's absolute end */
  expiresAt: number;
  live: boolean;
}

export interface IssuedSession {
  sessionId: string;
  userId: string;
  refreshToken: string;
  expiresAt: Date;
}

/** Login sessions: creation, exactly-once refresh-token rotation with reuse detection, revocation. */
@Injectable()
export class SessionsService {
  private readonly refreshTtlMs: number;
  private readonly tokens: RefreshTokenCodec;
  /** Liveness per login id, read on every authenticated request; every revocation clears it everywhere. */
  private readonly liveness: InvalidatedCache<SessionState>;

  constructor(
    private readonly sessions: SessionRepository,
    @Inject(INVALIDATION_BUS) bus: InvalidationBus,
    @Inject(jwtConfig.KEY) jwt: ConfigType<typeof jwtConfig>,
  ) {
    this.refreshTtlMs = jwt.refreshTtl * 1000;
    this.tokens = new RefreshTokenCodec(jwt.secret);
    this.liveness = new InvalidatedCache(bus, 'sessions', { max: 200_000, maxAgeMs: 60_000 });
  }

  async create(userId: string, meta: RequestMeta): Promise<IssuedSession> {
    const id = randomUUID();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.refreshTtlMs);
    const { token, hash } = this.tokens.issue(id, 0);
    await this.sessions.insert({
      id,
      userId,
      refreshTokenHash: hash,
      generation: 0,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: meta.userAgent,
      ip: meta.ip.slice(0, 64),
    });
    return { sessionId: id, userId, refreshToken: token, expiresAt };
  }

  /** The login a refresh token belongs to, if it could be one of ours; rotation happens in rotate(). */
  async findForRefresh(refreshToken: string): Promise<LoginSessionEntity> {
    const parsed = this.tokens.parse(refreshToken);
    const session = parsed && (await this.sessions.findById(parsed.sessionId));
    if (!session) throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
    return session;
  }

  /**
   * Spends `refreshToken` and returns the login's next one. Exactly one of several concurrent calls
   * with the same token wins (the repository's compare-and-set); a spent token that we issued, or
   * the losers of such a race, revoke the whole login, as a stolen token used twice would.
   */
  async rotate(session: LoginSessionEntity, refreshToken: string): Promise<IssuedSession> {
    const parsed = this.tokens.parse(refreshToken);
    const now = new Date();
    if (!parsed || session.revokedAt || session.expiresAt.getTime() <= now.getTime()) {
      throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
    }
    if (parsed.hash !== session.refreshTokenHash) {
      // Only a token we really issued for this login, now spent, is reuse; anything else is unknown.
      if (parsed.issuedByUs && parsed.generation < session.generation) return this.reuseDetected(session.id);
      throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
    }
    const next = this.tokens.issue(session.id, session.generation + 1);
    const won = await this.sessions.rotate({ id: session.id, from: parsed.hash, to: next.hash, at: now });
    if (!won) {
      // Lost to a revocation that landed after the read (logout, disable), not to another refresh.
      const current = await this.sessions.findById(session.id);
      if (!current || current.revokedAt) throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
      return this.reuseDetected(session.id);
    }
    return {
      sessionId: session.id,
      userId: session.userId,
      refreshToken: next.token,
      expiresAt: session.expiresAt,
    };
  }

  private async reuseDetected(sessionId: string): Promise<never> {
    await this.revoke(sessionId, 'reuse');
    throw new AppError(ErrorCode.REFRESH_TOKEN_REUSED);
  }

  async revoke(sessionId: string, reason: RevokeReason): Promise<void> {
    await this.sessions.revoke(sessionId, reason, new Date());
    await this.liveness.invalidate([sessionId]);
  }

  /**
   * Ends every live login of a user; returns how many were live. Inside `tx` (disable, erasure) the
   * revocation commits with the rest of the rule, and caches are cleared only after the commit.
   */
  async revokeAllForUser(userId: string, reason: RevokeReason, tx?: Transaction): Promise<number> {
    const { revoked, revokedIds } = await this.sessions.revokeAllForUser(userId, reason, new Date(), tx);
    const invalidate = () => this.liveness.invalidate(revokedIds);
    if (tx) tx.afterCommit(invalidate);
    else await invalidate();
    return revoked;
  }

  /** Erasure: the client details of every login of the user (IP, user agent) are blanked. */
  forgetClientDetails(userId: string, tx: Transaction): Promise<void> {
    return this.sessions.forgetClientDetails(userId, tx);
  }

  /** Hot path: is this login still on? Answered from the cache that every revocation clears. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    const state = await this.liveness.getOrLoad(sessionId, async () => {
      const row = await this.sessions.findById(sessionId);
      return row && { userId: row.userId, expiresAt: row.expiresAt.getTime(), live: row.revokedAt === null };
    });
    return state !== null && state.live && state.userId === userId && state.expiresAt > Date.now();
  }
}
