import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { batchedWrite } from '../database/batching.js';
import { rowInserter } from '../database/raw-rows.js';
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

  async record(event: AuditEventType, entry: AuditEntry): Promise<void> {
    await this.insert({
      id: randomUUID(),
      event,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      sessionId: entry.sessionId ?? null,
      ip: entry.meta?.ip.slice(0, 64) ?? null,
      requestId: entry.meta?.requestId ?? null,
      detail: entry.detail?.slice(0, 512) ?? null,
      createdAt: new Date(),
    });
  }
}
