/**
 * In-memory stand-ins for the repositories and the unit of work, so the services' rules run in unit
 * tests without a database. Each keeps the one guarantee its rules rely on (the compare-and-set of
 * a rotation, the unique identities, "never write an erased user"); a transaction here is all-or-
 * nothing (writes are staged and applied at commit) and its after-commit hooks run after it.
 */
import type { AuditEventEntity } from '../../src/audit/audit-event.entity.js';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import type { Transaction } from '../../src/database/unit-of-work.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import type { LoginSessionEntity, RevokeReason } from '../../src/sessions/login-session.entity.js';
import { SessionRepository, type Rotation } from '../../src/sessions/session.repository.js';
import type { SessionKeyEntity } from '../../src/session-keys/session-key.entity.js';
import { SessionKeyRepository } from '../../src/session-keys/session-key.repository.js';
import type { UserEntity, UserStatus } from '../../src/users/user.entity.js';
import { UserRepository, type IdentityColumn, type UserFilter } from '../../src/users/user.repository.js';

interface MemoryTransaction extends Transaction {
  /** Writes wait here until the commit. */
  staged: Array<() => void>;
}

/** Applies `write` now, or at the commit of `tx`. */
function apply(tx: Transaction | undefined, write: () => void): void {
  if (tx) (tx as MemoryTransaction).staged.push(write);
  else write();
}

export class InMemoryUnitOfWork extends UnitOfWork {
  commits = 0;
  /** Set to make the next transaction fail at its end, before anything is applied. */
  failNext: Error | null = null;

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const hooks: Array<() => unknown> = [];
    const tx: MemoryTransaction = { staged: [], afterCommit: (hook) => hooks.push(hook) };
    const result = await work(tx);
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    for (const write of tx.staged) write();
    this.commits++;
    for (const hook of hooks) await hook();
    return result;
  }
}

const copy = <T extends object>(value: T): T => ({ ...value });

const IDENTITY_COLUMNS: readonly IdentityColumn[] = ['openid', 'oaOpenid', 'unionid'];

export class InMemoryUserRepository extends UserRepository {
  readonly rows = new Map<string, UserEntity>();

  async findById(id: string): Promise<UserEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async findByOpenid(openid: string): Promise<UserEntity | null> {
    return this.found('openid', openid);
  }

  async findByOaOpenid(oaOpenid: string): Promise<UserEntity | null> {
    return this.found('oaOpenid', oaOpenid);
  }

  async findByUnionid(unionid: string): Promise<UserEntity | null> {
    return this.found('unionid', unionid);
  }

  /** Check and insert in one step, as the unique indexes do (every identity column). */
  async insertIfNew(user: UserEntity): Promise<boolean> {
    for (const column of IDENTITY_COLUMNS) {
      const value = user[column];
      if (value !== null && this.holder(column, value)) return false;
    }
    this.rows.set(user.id, copy(user));
    return true;
  }

  /** Only into an empty column of a live user, and only a value no other user holds. */
  async addIdentity(id: string, column: IdentityColumn, value: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status === 'erased' || row[column] !== null) return false;
    if (this.holder(column, value)) return false;
    Object.assign(row, { [column]: value, updatedAt: new Date() });
    return true;
  }

  private found(column: IdentityColumn, value: string): UserEntity | null {
    const row = this.holder(column, value);
    return row ? copy(row) : null;
  }

  private holder(column: IdentityColumn, value: string): UserEntity | undefined {
    for (const row of this.rows.values()) if (row[column] === value) return row;
    return undefined;
  }

  async findCommittedStatus(id: string): Promise<UserStatus | null> {
    return this.rows.get(id)?.status ?? null;
  }

  async updateUnlessErased(id: string, patch: Partial<UserEntity>, tx?: Transaction): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status === 'erased') return false;
    apply(tx, () => Object.assign(row, patch));
    return true;
  }

  async list(filter: UserFilter): Promise<{ items: UserEntity[]; total: number }> {
    const matching = [...this.rows.values()]
      .filter((u) => (filter.status ? u.status === filter.status : u.status !== 'erased'))
      .filter((u) => !filter.q || u.id === filter.q || (u.nickname ?? '').includes(filter.q))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id));
    const start = (filter.page - 1) * filter.pageSize;
    return { items: matching.slice(start, start + filter.pageSize).map(copy), total: matching.length };
  }
}

export class InMemorySessionRepository extends SessionRepository {
  readonly rows = new Map<string, LoginSessionEntity>();

  async insert(session: LoginSessionEntity): Promise<void> {
    this.rows.set(session.id, copy(session));
  }

  async findById(id: string): Promise<LoginSessionEntity | null> {
    const row = this.rows.get(id);
    return row ? copy(row) : null;
  }

  async rotate({ id, from, to, at }: Rotation): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.revokedAt || row.refreshTokenHash !== from) return false;
    Object.assign(row, { refreshTokenHash: to, generation: row.generation + 1, lastUsedAt: at });
    return true;
  }

  async revoke(id: string, reason: RevokeReason, at: Date): Promise<void> {
    const row = this.rows.get(id);
    if (row && !row.revokedAt) Object.assign(row, { revokedAt: at, revokeReason: reason });
  }

  async revokeAllForUser(
    userId: string,
    reason: RevokeReason,
    at: Date,
    tx?: Transaction,
  ): Promise<{ revoked: number; revokedIds: string[] }> {
    const live = [...this.rows.values()].filter((s) => s.userId === userId && !s.revokedAt);
    apply(tx, () => live.forEach((row) => Object.assign(row, { revokedAt: at, revokeReason: reason })));
    const ids = [...this.rows.values()]
      .filter((s) => s.userId === userId && s.expiresAt > at && (s.revokedAt || live.includes(s)))
      .map((s) => s.id);
    return { revoked: live.length, revokedIds: ids };
  }

  async forgetClientDetails(userId: string, tx: Transaction): Promise<void> {
    apply(tx, () => {
      for (const row of this.rows.values())
        if (row.userId === userId) Object.assign(row, { ip: null, userAgent: null });
    });
  }

  ofUser(userId: string): LoginSessionEntity[] {
    return [...this.rows.values()].filter((s) => s.userId === userId);
  }
}

export class InMemorySessionKeyRepository extends SessionKeyRepository {
  readonly rows = new Map<string, SessionKeyEntity>();

  async save(row: SessionKeyEntity): Promise<void> {
    this.rows.set(row.userId, copy(row));
  }

  async find(userId: string): Promise<SessionKeyEntity | null> {
    const row = this.rows.get(userId);
    return row ? copy(row) : null;
  }

  async delete(userId: string, tx?: Transaction): Promise<void> {
    apply(tx, () => this.rows.delete(userId));
  }
}

export class InMemoryAuditRepository extends AuditRepository {
  readonly rows: AuditEventEntity[] = [];

  async insert(event: AuditEventEntity, tx?: Transaction): Promise<void> {
    apply(tx, () => this.rows.push(copy(event)));
  }

  async forgetUser(userId: string, tx: Transaction): Promise<void> {
    apply(tx, () => {
      for (const row of this.rows) {
        if (row.userId === userId || row.actorId === userId) Object.assign(row, { ip: null, detail: null });
      }
    });
  }

  async listForOrder(orderId: string): Promise<AuditEventEntity[]> {
    return this.rows.filter((r) => r.orderId === orderId).map(copy);
  }

  events(userId?: string): string[] {
    return this.rows.filter((r) => userId === undefined || r.userId === userId).map((r) => r.event);
  }
}
