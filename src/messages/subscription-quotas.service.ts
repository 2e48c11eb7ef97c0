import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { SubscriptionResult } from './dto/subscription-results.dto.js';
import { SubscriptionQuotaRepository } from './subscription-quota.repository.js';

/**
 * The client's consent results as quotas: `accept` +1 (one more one-time subscription), `ban` 0
 * (the user turned the template off), `reject` and `filter` change nothing. A count of what the
 * client reported; WeChat stays the authority (a send it refuses with 43101 clears the quota).
 */
@Injectable()
export class SubscriptionQuotas {
  constructor(
    private readonly quotas: SubscriptionQuotaRepository,
    private readonly uow: UnitOfWork,
  ) {}

  /** Applies one wx.requestSubscribeMessage answer (all of it or none); the quotas of its templates. */
  async record(
    userId: string,
    results: ReadonlyMap<string, SubscriptionResult>,
  ): Promise<Record<string, number>> {
    const now = new Date();
    await this.uow.run(async (tx) => {
      for (const [templateId, result] of results) {
        if (result === 'accept') await this.quotas.add(userId, templateId, 1, now, tx);
        else if (result === 'ban') await this.quotas.clear(userId, templateId, now, tx);
      }
    });
    const templates = [...results.keys()];
    const found = await this.quotas.list(userId, templates);
    return Object.fromEntries(templates.map((templateId) => [templateId, found.get(templateId) ?? 0]));
  }

  /** Every template of the user with at least one unit left. */
  async list(userId: string): Promise<Record<string, number>> {
    return Object.fromEntries(await this.quotas.list(userId));
  }
}
