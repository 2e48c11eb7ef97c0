import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThanOrEqual, type EntityManager, type Repository } from 'typeorm';
import { isUniqueViolation, ReportsOutages } from '../database/db-errors.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { SubscriptionQuotaEntity } from './subscription-quota.entity.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';

@Injectable()
@ReportsOutages()
export class TypeormSubscriptionQuotaRepository extends SubscriptionQuotaRepository {
  constructor(
    @InjectRepository(SubscriptionQuotaEntity) private readonly quotas: Repository<SubscriptionQuotaEntity>,
  ) {
    super();
  }

  async add(userId: string, templateId: string, delta: number, now: Date, tx?: Transaction): Promise<void> {
    const manager = managerOf(tx, this.quotas.manager);
    if (await this.increment(manager, userId, templateId, delta, now)) return;
    try {
      await manager.insert(SubscriptionQuotaEntity, { userId, templateId, remaining: delta, updatedAt: now });
    } catch (error) {
      // A concurrent first consent made the row: this one adds to it.
      if (!isUniqueViolation(error)) throw error;
      await this.increment(manager, userId, templateId, delta, now);
    }
  }

  async clear(userId: string, templateId: string, now: Date, tx?: Transaction): Promise<void> {
    await managerOf(tx, this.quotas.manager).update(
      SubscriptionQuotaEntity,
      { userId, templateId },
      { remaining: 0, updatedAt: now },
    );
  }

  async spend(userId: string, templateId: string, now: Date, tx: Transaction): Promise<boolean> {
    // The condition and the decrement in one statement: of concurrent spends of the last unit, one
    // matches (MariaDB holds the row for the others until the first commits; SQLite takes turns).
    const result = await managerOf(tx, this.quotas.manager)
      .createQueryBuilder()
      .update(SubscriptionQuotaEntity)
      .set({ remaining: () => 'remaining - 1', updatedAt: now })
      .where('user_id = :userId AND template_id = :templateId AND remaining >= 1', { userId, templateId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async list(userId: string, templateIds?: readonly string[]): Promise<Map<string, number>> {
    if (templateIds && templateIds.length === 0) return new Map();
    const rows = await this.quotas.find({
      where: templateIds
        ? { userId, templateId: In([...templateIds]) }
        : { userId, remaining: MoreThanOrEqual(1) },
      order: { templateId: 'ASC' },
    });
    return new Map(rows.map((row) => [row.templateId, row.remaining]));
  }

  async deleteUser(userId: string, tx: Transaction): Promise<void> {
    await managerOf(tx, this.quotas.manager).delete(SubscriptionQuotaEntity, { userId });
  }

  private async increment(
    manager: EntityManager,
    userId: string,
    templateId: string,
    delta: number,
    now: Date,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(SubscriptionQuotaEntity)
      .set({ remaining: () => `remaining + ${Math.trunc(delta)}`, updatedAt: now })
      .where('user_id = :userId AND template_id = :templateId', { userId, templateId })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
