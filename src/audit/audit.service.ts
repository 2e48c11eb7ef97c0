import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
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
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** `manager`: write inside the caller's transaction (one commit for a login's rows). */
  async record(event: AuditEventType, entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const events = manager ? manager.getRepository(AuditEventEntity) : this.events;
    await events.insert({
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
