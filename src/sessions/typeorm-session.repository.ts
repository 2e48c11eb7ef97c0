import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Not, type Repository } from 'typeorm';
import { ReportsOutages } from '../database/db-errors.js';
import { batched, batchedRead, batchedWrite } from '../database/batching.js';
import { rowInserter, rowReader } from '../database/raw-rows.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { LoginSessionEntity, type RevokeReason } from './login-session.entity.js';
import { SessionRepository, type Rotation } from './session.repository.js';

/** Login sessions in MySQL/MariaDB or SQLite; the login and refresh paths batched across requests. */
@Injectable()
@ReportsOutages()
export class TypeormSessionRepository extends SessionRepository {
  private readonly insertOne: (row: LoginSessionEntity) => Promise<void>;
  private readonly readByIds: (ids: readonly string[]) => Promise<LoginSessionEntity[]>;
  private readonly readOne: (id: string) => Promise<LoginSessionEntity | null>;
  private readonly rotateOne: (rotation: Rotation) => Promise<boolean>;

  constructor(
    @InjectRepository(LoginSessionEntity) private readonly sessions: Repository<LoginSessionEntity>,
  ) {
    super();
    this.insertOne = batchedWrite(rowInserter(sessions));
    this.readByIds = rowReader(sessions, 'id');
    this.readOne = batchedRead(this.readByIds, (row) => row.id);
    this.rotateOne = batched((rotations: Rotation[]) => this.rotateAll(rotations));
  }

  insert(session: LoginSessionEntity): Promise<void> {
    return this.insertOne(session);
  }

  findById(id: string): Promise<LoginSessionEntity | null> {
    return this.readOne(id);
  }

  rotate(rotation: Rotation): Promise<boolean> {
    return this.rotateOne(rotation);
  }

  /**
   * Every rotation of a batch in one UPDATE (one commit): each row moves to the new hash of the
   * first rotation that names its current hash, so of several concurrent refreshes with one token
   * exactly one wins, in a batch as across batches and instances (the row lock orders those). A
   * read-back then tells each caller whether its new hash is the one stored. It needs no
   * transaction: once a row holds a caller's new hash, only that caller's new token (not yet handed
   * out) could move it on.
   */
  private async rotateAll(rotations: Rotation[]): Promise<boolean[]> {
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
        lastUsedAt: rotations[rotations.length - 1].at,
      })
      .where(`revoked_at IS NULL AND (${matches.join(' OR ')})`, params)
      .execute();
    if (rotations.length === 1) return [result.affected === 1];
    const rows = await this.readByIds([...new Set(rotations.map((r) => r.id))]);
    const stored = new Map(rows.map((row) => [row.id, row.refreshTokenHash]));
    return rotations.map((r) => stored.get(r.id) === r.to);
  }

  async revoke(id: string, reason: RevokeReason, at: Date): Promise<void> {
    await this.sessions.update({ id, revokedAt: IsNull() }, { revokedAt: at, revokeReason: reason });
  }

  async revokeAllForUser(
    userId: string,
    reason: RevokeReason,
    at: Date,
    tx?: Transaction,
  ): Promise<{ revoked: number; revokedIds: string[] }> {
    const manager = managerOf(tx, this.sessions.manager);
    const result = await manager.update(
      LoginSessionEntity,
      { userId, revokedAt: IsNull() },
      { revokedAt: at, revokeReason: reason },
    );
    // After the update, so every row it touched is seen (a read before it could miss a login
    // inserted meanwhile); the ones ended earlier come too, which is harmless.
    const rows = await manager.find(LoginSessionEntity, {
      select: { id: true },
      where: { userId, revokedAt: Not(IsNull()), expiresAt: MoreThan(at) },
    });
    return { revoked: result.affected ?? 0, revokedIds: rows.map((row) => row.id) };
  }

  async forgetClientDetails(userId: string, tx: Transaction): Promise<void> {
    await managerOf(tx, this.sessions.manager).update(
      LoginSessionEntity,
      { userId },
      { ip: null, userAgent: null },
    );
  }
}
