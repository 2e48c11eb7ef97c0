import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ReportsOutages } from '../database/db-errors.js';
import { batchedWrite } from '../database/batching.js';
import { rowInserter } from '../database/raw-rows.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { AuditEventEntity } from './audit-event.entity.js';

export abstract class AuditRepository {
  /** Inside `tx` the entry commits (or not) with the change it records. */
  abstract insert(event: AuditEventEntity, tx?: Transaction): Promise<void>;
  /** Blanks IP and free text of the entries about `userId` or made by them. */
  abstract forgetUser(userId: string, tx: Transaction): Promise<void>;
  /** The entries about `orderId`, oldest first. */
  abstract listForOrder(orderId: string): Promise<AuditEventEntity[]>;
}

@Injectable()
@ReportsOutages()
export class TypeormAuditRepository extends AuditRepository {
  /** Every login and refresh writes one: batched across concurrent requests (database/batching.ts). */
  private readonly insertBatched: (row: AuditEventEntity) => Promise<void>;

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {
    super();
    this.insertBatched = batchedWrite(rowInserter(events));
  }

  async insert(event: AuditEventEntity, tx?: Transaction): Promise<void> {
    if (tx) await managerOf(tx, this.events.manager).insert(AuditEventEntity, event);
    else await this.insertBatched(event);
  }

  async forgetUser(userId: string, tx: Transaction): Promise<void> {
    const manager = managerOf(tx, this.events.manager);
    for (const where of [{ userId }, { actorId: userId }]) {
      await manager.update(AuditEventEntity, where, { ip: null, detail: null });
    }
  }

  listForOrder(orderId: string): Promise<AuditEventEntity[]> {
    return this.events.find({ where: { orderId }, order: { createdAt: 'ASC' } });
  }
}
