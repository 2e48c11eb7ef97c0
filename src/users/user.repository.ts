import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, type Repository } from 'typeorm';
import { batchedRead } from '../database/batching.js';
import { isUniqueViolation, ReportsOutages } from '../database/db-errors.js';
import { rowReader } from '../database/raw-rows.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { UserEntity, type UserStatus } from './user.entity.js';

export interface UserFilter {
  /** Without a status, every user but the erased. */
  status?: UserStatus;
  /** Part of the nickname, or a whole user id. */
  q?: string;
  page: number;
  pageSize: number;
}

/** The columns that name a WeChat identity; each is unique among users when set. */
export type IdentityColumn = 'openid' | 'oaOpenid' | 'unionid';

export abstract class UserRepository {
  abstract findById(id: string): Promise<UserEntity | null>;
  /** By MP openid. */
  abstract findByOpenid(openid: string): Promise<UserEntity | null>;
  abstract findByOaOpenid(oaOpenid: string): Promise<UserEntity | null>;
  abstract findByUnionid(unionid: string): Promise<UserEntity | null>;
  /**
   * false when another user already holds one of its identities (two first sign-ins at once): the
   * unique indexes decide, never a read before the write.
   */
  abstract insertIfNew(user: UserEntity): Promise<boolean>;
  /**
   * Gives the user an identity it lacks: only while that column is still empty and the user not
   * erased, and only if no other user holds the value (unique index). false otherwise; nothing is
   * ever overwritten, so an identity never moves.
   */
  abstract addIdentity(id: string, column: IdentityColumn, value: string): Promise<boolean>;
  /**
   * The status as committed, waiting for a transaction that holds the row (a disable or erasure in
   * progress) rather than reading what was there before it.
   */
  abstract findCommittedStatus(id: string): Promise<UserStatus | null>;
  /** Applies `patch` unless the user is erased or absent; false then. */
  abstract updateUnlessErased(id: string, patch: Partial<UserEntity>, tx?: Transaction): Promise<boolean>;
  /** Newest first, ties by id. */
  abstract list(filter: UserFilter): Promise<{ items: UserEntity[]; total: number }>;
}

@Injectable()
@ReportsOutages()
export class TypeormUserRepository extends UserRepository {
  /** Every login looks its user up: batched across concurrent logins (database/batching.ts). */
  private readonly byOpenid: (openid: string) => Promise<UserEntity | null>;
  private readonly committedStatus: (id: string) => Promise<UserEntity | null>;

  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {
    super();
    this.byOpenid = batchedRead(rowReader(users, 'openid'), (row) => row.openid as string);
    this.committedStatus = batchedRead(rowReader(users, 'id', { shareLock: true }), (row) => row.id);
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  findByOpenid(openid: string): Promise<UserEntity | null> {
    return this.byOpenid(openid);
  }

  findByOaOpenid(oaOpenid: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ oaOpenid });
  }

  findByUnionid(unionid: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ unionid });
  }

  async insertIfNew(user: UserEntity): Promise<boolean> {
    try {
      await this.users.insert(user);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async addIdentity(id: string, column: IdentityColumn, value: string): Promise<boolean> {
    try {
      const result = await this.users.update(
        { id, status: Not('erased'), [column]: IsNull() },
        { [column]: value, updatedAt: new Date() },
      );
      return result.affected !== 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async findCommittedStatus(id: string): Promise<UserStatus | null> {
    return (await this.committedStatus(id))?.status ?? null;
  }

  async updateUnlessErased(id: string, patch: Partial<UserEntity>, tx?: Transaction): Promise<boolean> {
    const manager = managerOf(tx, this.users.manager);
    const result = await manager.update(UserEntity, { id, status: Not('erased') }, patch);
    return result.affected !== 0;
  }

  async list(filter: UserFilter): Promise<{ items: UserEntity[]; total: number }> {
    const qb = this.users.createQueryBuilder('u');
    if (filter.status) qb.where('u.status = :status', { status: filter.status });
    else qb.where('u.status <> :erased', { erased: 'erased' });
    if (filter.q) {
      // '!' as the LIKE escape: MySQL and SQLite disagree about backslashes.
      const pattern = `%${filter.q.replace(/[!%_]/g, (c) => `!${c}`)}%`;
      qb.andWhere("(u.nickname LIKE :pattern ESCAPE '!' OR u.id = :q)", { pattern, q: filter.q });
    }
    const [items, total] = await qb
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'ASC')
      .skip((filter.page - 1) * filter.pageSize)
      .take(filter.pageSize)
      .getManyAndCount();
    return { items, total };
  }
}
