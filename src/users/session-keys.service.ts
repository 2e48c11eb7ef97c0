import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { batchedWrite } from '../database/batching.js';
import { rowInserter } from '../database/raw-rows.js';
import type { Transaction } from '../database/unit-of-work.js';
import { DataCipher } from '../security/data-cipher.js';
import { SessionKeyEntity } from './session-key.entity.js';

/** The WeChat session key of each user's latest login, encrypted at rest. */
@Injectable()
export class SessionKeysService {
  /** Written at every login: batched across concurrent logins (database/batching.ts). */
  private readonly upsert: (row: SessionKeyEntity) => Promise<void>;

  constructor(
    @InjectRepository(SessionKeyEntity) private readonly keys: Repository<SessionKeyEntity>,
    private readonly cipher: DataCipher,
  ) {
    const upsert = rowInserter(keys, 'userId');
    // One row per user (the latest login's key wins), as one multi-row upsert needs.
    this.upsert = batchedWrite((rows) => upsert([...new Map(rows.map((row) => [row.userId, row])).values()]));
  }

  save(userId: string, sessionKey: string): Promise<void> {
    return this.upsert({
      userId,
      sessionKeyEncrypted: this.cipher.encrypt(sessionKey),
      updatedAt: new Date(),
    });
  }

  /** null when there is none, or it was written under another key. */
  async get(userId: string): Promise<string | null> {
    const row = await this.keys.findOneBy({ userId });
    return row ? this.cipher.decrypt(row.sessionKeyEncrypted) : null;
  }

  async delete(userId: string, tx?: Transaction): Promise<void> {
    await (tx?.manager ?? this.keys.manager).delete(SessionKeyEntity, { userId });
  }
}
