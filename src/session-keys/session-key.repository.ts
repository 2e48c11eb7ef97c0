import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ReportsOutages } from '../database/db-errors.js';
import { batchedWrite } from '../database/batching.js';
import { rowInserter } from '../database/raw-rows.js';
import { managerOf, type Transaction } from '../database/unit-of-work.js';
import { SessionKeyEntity } from './session-key.entity.js';

export abstract class SessionKeyRepository {
  /** Insert or replace: one row per user, the latest login's key. */
  abstract save(row: SessionKeyEntity): Promise<void>;
  abstract find(userId: string): Promise<SessionKeyEntity | null>;
  abstract delete(userId: string, tx?: Transaction): Promise<void>;
}

@Injectable()
@ReportsOutages()
export class TypeormSessionKeyRepository extends SessionKeyRepository {
  /** Written at every login: batched across concurrent logins (database/batching.ts). */
  private readonly upsert: (row: SessionKeyEntity) => Promise<void>;

  constructor(@InjectRepository(SessionKeyEntity) private readonly keys: Repository<SessionKeyEntity>) {
    super();
    const upsert = rowInserter(keys, 'userId');
    // One row per user (the latest login's key wins), as one multi-row upsert needs.
    this.upsert = batchedWrite((rows) => upsert([...new Map(rows.map((row) => [row.userId, row])).values()]));
  }

  save(row: SessionKeyEntity): Promise<void> {
    return this.upsert(row);
  }

  find(userId: string): Promise<SessionKeyEntity | null> {
    return this.keys.findOneBy({ userId });
  }

  async delete(userId: string, tx?: Transaction): Promise<void> {
    await managerOf(tx, this.keys.manager).delete(SessionKeyEntity, { userId });
  }
}
