import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { RequestMeta } from '../../common/http/request-meta.js';
import type { Page } from '../../common/validation/page.query.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { keywordHash, matchClick, matchText } from './auto-reply-matching.js';
import type { AutoReplyEntity, AutoReplyMatch } from './auto-reply.entity.js';
import { AutoReplyRepository, type AutoReplyChange } from './auto-reply.repository.js';

export interface NewAutoReply {
  match: AutoReplyMatch;
  keyword: string;
  reply: string;
  enabled?: boolean;
}

const notFound = () => new AppError(ErrorCode.NOT_FOUND, 'no such auto-reply');
const duplicate = () => new AppError(ErrorCode.CONFLICT, 'an auto-reply with this match and keyword exists');

/** The keyword rules: the admin's CRUD (audited) and the callback's look-ups. */
@Injectable()
export class AutoRepliesService {
  /** Creation times strictly increase within an instance, so "oldest first" is the order of creation. */
  private lastCreatedAt = 0;

  constructor(
    private readonly rules: AutoReplyRepository,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
  ) {}

  async list(page: number, pageSize: number): Promise<Page<AutoReplyEntity>> {
    return { ...(await this.rules.list(page, pageSize)), page, pageSize };
  }

  async create(input: NewAutoReply, actorId: string, meta: RequestMeta): Promise<AutoReplyEntity> {
    const createdAt = new Date((this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt + 1)));
    const rule: AutoReplyEntity = {
      id: randomUUID(),
      match: input.match,
      keyword: input.keyword,
      keywordHash: keywordHash(input.keyword),
      reply: input.reply,
      enabled: input.enabled ?? true,
      createdAt,
      updatedAt: createdAt,
    };
    await this.uow.run(async (tx) => {
      if (!(await this.rules.insert(rule, tx))) throw duplicate();
      await this.audit.record('auto_reply_created', { actorId, meta, detail: describe(rule) }, tx);
    });
    return rule;
  }

  async update(
    id: string,
    change: AutoReplyChange,
    actorId: string,
    meta: RequestMeta,
  ): Promise<AutoReplyEntity> {
    const current = await this.rules.findById(id);
    if (!current) throw notFound();
    if (Object.keys(change).length === 0) return current;
    return this.uow.run(async (tx) => {
      const updated = await this.rules.update(id, change, new Date(), tx);
      if (updated === 'missing') throw notFound();
      if (updated === 'duplicate') throw duplicate();
      const fields = Object.keys(change).sort().join(',');
      await this.audit.record(
        'auto_reply_changed',
        { actorId, meta, detail: `${describe(updated)}: ${fields}` },
        tx,
      );
      return updated;
    });
  }

  async delete(id: string, actorId: string, meta: RequestMeta): Promise<void> {
    const current = await this.rules.findById(id);
    if (!current) throw notFound();
    await this.uow.run(async (tx) => {
      if (!(await this.rules.delete(id, tx))) throw notFound();
      await this.audit.record('auto_reply_deleted', { actorId, meta, detail: describe(current) }, tx);
    });
  }

  /** The reply to a text message, or null (see matchText for the rules). */
  async replyToText(content: string): Promise<string | null> {
    const exact = await this.rules.findEnabled('exact', content.trim());
    const candidates = exact.length > 0 ? exact : await this.rules.listEnabled('contains');
    return matchText(content, candidates)?.reply ?? null;
  }

  /** The reply to a menu click with this EventKey, or null. */
  async replyToClick(eventKey: string): Promise<string | null> {
    return matchClick(eventKey, await this.rules.findEnabled('click', eventKey))?.reply ?? null;
  }
}

/** The rule's id and kind: an audit entry never holds the keyword or the reply. */
const describe = (rule: Pick<AutoReplyEntity, 'id' | 'match'>): string =>
  `auto-reply ${rule.id} (${rule.match})`;
