import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Or, type Repository } from 'typeorm';
import { isUniqueViolation, ReportsOutages } from '../database/db-errors.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { MessageEntity } from './message.entity.js';
import { MessageRepository, type InsertOutcome, type MessageOutcome } from './message.repository.js';

@Injectable()
@ReportsOutages()
export class TypeormMessageRepository extends MessageRepository {
  constructor(@InjectRepository(MessageEntity) private readonly messages: Repository<MessageEntity>) {
    super();
  }

  async insert(message: MessageEntity, tx: Transaction): Promise<InsertOutcome> {
    try {
      await managerOf(tx, this.messages.manager).insert(MessageEntity, message);
    } catch (error) {
      if (isUniqueViolation(error)) return 'duplicate';
      throw error;
    }
    return 'inserted';
  }

  findById(id: string): Promise<MessageEntity | null> {
    return this.messages.findOneBy({ id });
  }

  findByIdempotencyKey(key: string): Promise<MessageEntity | null> {
    return this.messages.findOneBy({ idempotencyKey: key });
  }

  async claim(id: string, owner: string, now: Date, until: Date, maxAttempts: number): Promise<boolean> {
    // One statement: the conditions and the counting of the attempt cannot be split by another worker.
    const result = await this.messages
      .createQueryBuilder()
      .update(MessageEntity)
      .set({ leaseOwner: owner, leaseUntil: until, attempts: () => 'attempts + 1', updatedAt: now })
      .where('id = :id', { id })
      .andWhere("status = 'queued'")
      .andWhere('(lease_until IS NULL OR lease_until < :now)', { now })
      .andWhere('(next_attempt_at IS NULL OR next_attempt_at <= :now)', { now })
      .andWhere('attempts < :maxAttempts', { maxAttempts })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async finishAttempt(
    id: string,
    owner: string,
    outcome: MessageOutcome,
    tx?: Transaction,
  ): Promise<boolean> {
    const result = await managerOf(tx, this.messages.manager).update(
      MessageEntity,
      { id, status: 'queued', leaseOwner: owner },
      { ...outcome, leaseOwner: null, leaseUntil: null },
    );
    return (result.affected ?? 0) > 0;
  }

  findUnleased(now: Date, limit: number): Promise<MessageEntity[]> {
    return this.messages.find({
      where: { status: 'queued', leaseUntil: Or(IsNull(), LessThan(now)) },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
    });
  }

  async failExhausted(
    id: string,
    now: Date,
    maxAttempts: number,
    outcome: MessageOutcome,
    tx: Transaction,
  ): Promise<boolean> {
    const result = await managerOf(tx, this.messages.manager)
      .createQueryBuilder()
      .update(MessageEntity)
      .set({ ...outcome, leaseOwner: null, leaseUntil: null })
      .where('id = :id', { id })
      .andWhere("status = 'queued'")
      .andWhere('(lease_until IS NULL OR lease_until < :now)', { now })
      .andWhere('attempts >= :maxAttempts', { maxAttempts })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  countQueued(): Promise<number> {
    return this.messages.countBy({ status: 'queued' });
  }

  async eraseUser(userId: string, now: Date, tx: Transaction): Promise<void> {
    const manager = managerOf(tx, this.messages.manager);
    await manager.update(
      MessageEntity,
      { userId, status: 'queued' },
      { status: 'failed', leaseOwner: null, leaseUntil: null, nextAttemptAt: null, updatedAt: now },
    );
    await manager.update(MessageEntity, { userId }, { payload: '{}' });
  }
}
