import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { batchedWrite } from '../database/batching.js';
import { rowInserter } from '../database/raw-rows.js';
import type { Transaction } from '../database/unit-of-work.js';
import type { RequestMeta } from '../common/http/request-meta.js';
import { AuditEventEntity, type AuditEventType } from './audit-event.entity.js';

export interface AuditEntry {
  userId?: string | null;
  actorId?: string | null;
  sessionId?: string | null;
  meta?: RequestMeta;
  /** Short, non-secret facts ("role user->admin"). */
  detail?: string;
}

@Injectable()
export class AuditService {
  /** Every login and refresh writes one: batched across concurrent requests (database/batching.ts). */
  private readonly insert: (row: AuditEventEntity) => Promise<void>;

  constructor(@InjectRepository(AuditEventEntity) events: Repository<AuditEventEntity>) {
    this.insert = batchedWrite(rowInserter(events));
  }

  /** Inside `tx` the entry commits (or not) with the change it records; otherwise it is batched. */
  async record(event: AuditEventType, entry: AuditEntry, tx?: Transaction): Promise<void> {
    const row: AuditEventEntity = {
      id: randomUUID(),
      event,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      sessionId: entry.sessionId ?? null,
      ip: entry.meta?.ip ? entry.meta.ip.slice(0, 64) : null,
      requestId: entry.meta?.requestId ?? null,
      detail: entry.detail?.slice(0, 512) ?? null,
      createdAt: new Date(),
    };
    if (tx) await tx.manager.insert(AuditEventEntity, row);
    else await this.insert(row);
  }

  /**
   * Erasure: the entries about the user, or made by them as an admin, keep their ids, event names
   * and times (what happened to which account, for the operator), and lose the IP and free text.
   */
  async forgetUser(userId: string, tx: Transaction): Promise<void> {
    for (const where of [{ userId }, { actorId: userId }]) {
      await tx.manager.update(AuditEventEntity, where, { ip: null, detail: null });
    }
  }
}
