import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation, ReportsOutages } from '../../database/db-errors.js';
import { managerOf, type Transaction } from '../../database/unit-of-work.js';
import { keywordHash } from './auto-reply-matching.js';
import { AutoReplyEntity, type AutoReplyMatch } from './auto-reply.entity.js';

export type AutoReplyChange = Partial<Pick<AutoReplyEntity, 'match' | 'keyword' | 'reply' | 'enabled'>>;

export abstract class AutoReplyRepository {
  /** Oldest first, ties by id. */
  abstract list(page: number, pageSize: number): Promise<{ items: AutoReplyEntity[]; total: number }>;
  abstract findById(id: string): Promise<AutoReplyEntity | null>;
  /** false when a rule with the same match and keyword exists. */
  abstract insert(rule: AutoReplyEntity, tx?: Transaction): Promise<boolean>;
  /** The rule after the change; 'duplicate' when another rule has the new match and keyword. */
  abstract update(
    id: string,
    change: AutoReplyChange,
    now: Date,
    tx?: Transaction,
  ): Promise<AutoReplyEntity | 'missing' | 'duplicate'>;
  abstract delete(id: string, tx?: Transaction): Promise<boolean>;
  /** The enabled rules of `match` whose keyword is exactly `keyword` (at most one). */
  abstract findEnabled(match: AutoReplyMatch, keyword: string): Promise<AutoReplyEntity[]>;
  /** Every enabled rule of `match`. */
  abstract listEnabled(match: AutoReplyMatch): Promise<AutoReplyEntity[]>;
}

@Injectable()
@ReportsOutages()
export class TypeormAutoReplyRepository extends AutoReplyRepository {
  constructor(@InjectRepository(AutoReplyEntity) private readonly rules: Repository<AutoReplyEntity>) {
    super();
  }

  async list(page: number, pageSize: number): Promise<{ items: AutoReplyEntity[]; total: number }> {
    const [items, total] = await this.rules.findAndCount({
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (page - 1) * pageSize,
      take: pageSize,
    });
    return { items, total };
  }

  findById(id: string): Promise<AutoReplyEntity | null> {
    return this.rules.findOneBy({ id });
  }

  async insert(rule: AutoReplyEntity, tx?: Transaction): Promise<boolean> {
    try {
      await managerOf(tx, this.rules.manager).insert(AutoReplyEntity, rule);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async update(
    id: string,
    change: AutoReplyChange,
    now: Date,
    tx?: Transaction,
  ): Promise<AutoReplyEntity | 'missing' | 'duplicate'> {
    const manager = managerOf(tx, this.rules.manager);
    const patch: Partial<AutoReplyEntity> = { ...change, updatedAt: now };
    if (change.keyword !== undefined) patch.keywordHash = keywordHash(change.keyword);
    try {
      const result = await manager.update(AutoReplyEntity, { id }, patch);
      if (result.affected === 0) return 'missing';
    } catch (error) {
      if (isUniqueViolation(error)) return 'duplicate';
      throw error;
    }
    return (await manager.findOneBy(AutoReplyEntity, { id })) ?? 'missing';
  }

  async delete(id: string, tx?: Transaction): Promise<boolean> {
    const result = await managerOf(tx, this.rules.manager).delete(AutoReplyEntity, { id });
    return result.affected !== 0;
  }

  findEnabled(match: AutoReplyMatch, keyword: string): Promise<AutoReplyEntity[]> {
    return this.rules.find({
      where: { match, keywordHash: keywordHash(keyword), enabled: true },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  listEnabled(match: AutoReplyMatch): Promise<AutoReplyEntity[]> {
    return this.rules.find({ where: { match, enabled: true }, order: { createdAt: 'ASC', id: 'ASC' } });
  }
}
