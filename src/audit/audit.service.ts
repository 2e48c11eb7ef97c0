import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { RequestMeta } from '../common/http/request-meta.js';
import type { Transaction } from '../database/unit-of-work.js';
import type { AuditEventEntity, AuditEventType } from './audit-event.entity.js';
import { AuditRepository } from './audit.repository.js';

export interface AuditEntry {
  userId?: string | null;
  actorId?: string | null;
  sessionId?: string | null;
  orderId?: string | null;
  meta?: RequestMeta;
  /** Short, non-secret facts ("role user->admin"). */
  detail?: string;
}

@Injectable()
export class AuditService {
  constructor(private readonly events: AuditRepository) {}

  /** Inside `tx` the entry commits (or not) with the change it records. */
  record(event: AuditEventType, entry: AuditEntry, tx?: Transaction): Promise<void> {
    return this.events.insert(
      {
        id: randomUUID(),
        event,
        userId: entry.userId ?? null,
        actorId: entry.actorId ?? null,
        sessionId: entry.sessionId ?? null,
        orderId: entry.orderId ?? null,
        ip: entry.meta?.ip ? entry.meta.ip.slice(0, 64) : null,
        requestId: entry.meta?.requestId ?? null,
        detail: entry.detail?.slice(0, 512) ?? null,
        createdAt: new Date(),
      },
      tx,
    );
  }

  /**
   * Erasure: the entries about the user, or made by them as an admin, keep their ids, event names
   * and times (what happened to which account, for the operator), and lose the IP and free text.
   */
  forgetUser(userId: string, tx: Transaction): Promise<void> {
    return this.events.forgetUser(userId, tx);
  }

  /** An order's entries, oldest first: what happened to it, when and (in `detail`) how. */
  listForOrder(orderId: string): Promise<AuditEventEntity[]> {
    return this.events.listForOrder(orderId);
  }
}
