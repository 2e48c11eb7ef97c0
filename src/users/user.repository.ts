import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Not, type Repository } from 'typeorm';
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

export abstract class UserRepository {
  abstract findById(id: string): Promise<UserEntity | null>;
  abstract findByOpenid(openid: string): Promise<UserEntity | null>;
  /** false when another user already has this openid (two first logins at once). */
  abstract insertIfNew(user: UserEntity): Promise<boolean>;
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

  async insertIfNew(user: UserEntity): Promise<boolean> {
    try {
      await this.users.insert(user);
      return true;
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
