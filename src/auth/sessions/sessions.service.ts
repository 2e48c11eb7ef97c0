import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Not, type EntityManager, type Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { RequestMeta } from '../../common/http/request-meta.js';
import { InvalidatedCache } from '../../common/invalidation/invalidated-cache.js';
import { INVALIDATION_BUS, type InvalidationBus } from '../../common/invalidation/invalidation-bus.port.js';
import type { AppConfig } from '../../config/app-config.js';
import { batched, batchedRead, batchedWrite } from '../../database/batching.js';
import { rowInserter, rowReader } from '../../database/raw-rows.js';
import type { Transaction } from '../../database/unit-of-work.js';
import { LoginSessionEntity, type RevokeReason } from './login-session.entity.js';
import { RefreshTokenCodec } from './refresh-token.js';

/** One refresh: move the login `id` from the token hashed `from` to the one hashed `to`. */
interface Rotation {
  id: string;
  from: string;
  to: string;
}

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
  /** One insert per login and one read per refresh, batched across concurrent requests. */
  private readonly insert: (row: LoginSessionEntity) => Promise<void>;
  private readonly findById: (id: string) => Promise<LoginSessionEntity | null>;
  private readonly readByIds: (ids: readonly string[]) => Promise<LoginSessionEntity[]>;
  /** Compare-and-set of the current refresh token, batched: true for the rotation that won. */
  private readonly swap: (rotation: Rotation) => Promise<boolean>;

  constructor(
    @InjectRepository(LoginSessionEntity) private readonly sessions: Repository<LoginSessionEntity>,
    @Inject(INVALIDATION_BUS) bus: InvalidationBus,
    config: ConfigService<AppConfig, true>,
  ) {
    const jwt = config.get('jwt', { infer: true });
    this.refreshTtlMs = jwt.refreshTtl * 1000;
    this.tokens = new RefreshTokenCodec(jwt.secret);
    this.liveness = new InvalidatedCache(bus, 'sessions', { max: 200_000, maxAgeMs: 60_000 });
    this.insert = batchedWrite(rowInserter(sessions));
    this.readByIds = rowReader(sessions, 'id');
    this.findById = batchedRead(this.readByIds, (row) => row.id);
    this.swap = batched((rotations: Rotation[]) => this.swapAll(rotations));
  }

  async create(userId: string, meta: RequestMeta): Promise<IssuedSession> {
    const id = randomUUID();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.refreshTtlMs);
    const { token, hash } = this.tokens.issue(id, 0);
    await this.insert({
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
    const session = parsed && (await this.findById(parsed.sessionId));
    if (!session) throw new AppError(ErrorCode.REFRESH_TOKEN_INVALID);
    return session;
  }

  /**
   * Spends `refreshToken` and returns the login's next one. Exactly one of several concurrent calls
   * with the same token wins (conditional UPDATE on the current hash); a spent token, or the losers
   * of such a race, revoke the whole login, as a stolen token used twice would.
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
    const won = await this.swap({ id: session.id, from: parsed.hash, to: next.hash });
    if (!won) {
      // Lost to a revocation that landed after the read (logout, disable), not to another refresh.
      const current = await this.findById(session.id);
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

  /**
   * Every rotation of a batch in one UPDATE (one commit): each row moves to the new hash of the
   * first rotation that names its current hash, so of several concurrent refreshes with one token
   * exactly one wins, in a batch as across batches and instances (the row lock orders those). A
   * read-back then tells each caller whether its new hash is the one stored. It needs no
   * transaction: once a row holds a caller's new hash, only that caller's new token (not yet handed
   * out) could move it on.
   */
  private async swapAll(rotations: Rotation[]): Promise<boolean[]> {
    const params: Record<string, string> = {};
    const matches = rotations.map(({ id, from, to }, i) => {
      Object.assign(params, { [`id${i}`]: id, [`from${i}`]: from, [`to${i}`]: to });
      return `(id = :id${i} AND refresh_token_hash = :from${i})`;
    });
    const newHash = rotations.map((_, i) => `WHEN ${matches[i]} THEN :to${i}`).join(' ');
    const result = await this.sessions
      .createQueryBuilder()
      .update(LoginSessionEntity)
      .set({
        refreshTokenHash: () => `CASE ${newHash} ELSE refresh_token_hash END`,
        generation: () => 'generation + 1',
        lastUsedAt: new Date(),
      })
      .where(`revoked_at IS NULL AND (${matches.join(' OR ')})`, params)
      .execute();
    if (rotations.length === 1) return [result.affected === 1];
    const rows = await this.readByIds([...new Set(rotations.map((r) => r.id))]);
    const stored = new Map(rows.map((row) => [row.id, row.refreshTokenHash]));
    return rotations.map((r) => stored.get(r.id) === r.to);
  }

  private async reuseDetected(sessionId: string): Promise<never> {
    await this.revoke(sessionId, 'reuse');
    throw new AppError(ErrorCode.REFRESH_TOKEN_REUSED);
  }

  async revoke(sessionId: string, reason: RevokeReason): Promise<void> {
    await this.sessions.update(
      { id: sessionId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokeReason: reason },
    );
    await this.liveness.invalidate([sessionId]);
  }

  /**
   * Ends every live login of a user; returns how many were live. Inside `tx` (disable, erasure) the
   * revocation commits with the rest of the rule, and caches are cleared only after the commit.
   */
  async revokeAllForUser(userId: string, reason: RevokeReason, tx?: Transaction): Promise<number> {
    const manager = tx?.manager ?? this.sessions.manager;
    const now = new Date();
    const result = await manager.update(
      LoginSessionEntity,
      { userId, revokedAt: IsNull() },
      { revokedAt: now, revokeReason: reason },
    );
    // Read after the update, so every row it touched is seen (a read before it could miss a login
    // inserted meanwhile). Every revoked login that has not expired is dropped from the caches,
    // the ones ended earlier too: harmless, and no row can slip between a read and the update.
    const ids = await this.revokedUnexpiredIds(manager, userId, now);
    const invalidate = () => this.liveness.invalidate(ids);
    if (tx) tx.afterCommit(invalidate);
    else await invalidate();
    return result.affected ?? 0;
  }

  /** Erasure: the client details of every login of the user (IP, user agent) are blanked. */
  async forgetClientDetails(userId: string, tx: Transaction): Promise<void> {
    await tx.manager.update(LoginSessionEntity, { userId }, { ip: null, userAgent: null });
  }

  private async revokedUnexpiredIds(manager: EntityManager, userId: string, now: Date): Promise<string[]> {
    const rows = await manager.find(LoginSessionEntity, {
      select: { id: true },
      where: { userId, revokedAt: Not(IsNull()), expiresAt: MoreThan(now) },
    });
    return rows.map((row) => row.id);
  }

  /** Hot path: is this login still on? Answered from the cache that every revocation clears. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    const state = await this.liveness.getOrLoad(sessionId, async () => {
      const row = await this.sessions.findOne({
        select: { id: true, userId: true, expiresAt: true, revokedAt: true },
        where: { id: sessionId },
      });
      return row && { userId: row.userId, expiresAt: row.expiresAt.getTime(), live: row.revokedAt === null };
    });
    return state !== null && state.live && state.userId === userId && state.expiresAt > Date.now();
  }
}
