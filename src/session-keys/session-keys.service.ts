import { Injectable } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work.js';
import { DataCipher } from '../security/data-cipher.js';
import { SessionKeyRepository } from './session-key.repository.js';

/** The WeChat session key of each user's latest login, encrypted at rest. */
@Injectable()
export class SessionKeysService {
  constructor(
    private readonly keys: SessionKeyRepository,
    private readonly cipher: DataCipher,
  ) {}

  save(userId: string, sessionKey: string): Promise<void> {
    return this.keys.save({
      userId,
      sessionKeyEncrypted: this.cipher.encrypt(sessionKey),
      updatedAt: new Date(),
    });
  }

  /** null when there is none, or it was written under another key. */
  async get(userId: string): Promise<string | null> {
    const row = await this.keys.find(userId);
    return row ? this.cipher.decrypt(row.sessionKeyEncrypted) : null;
  }

  delete(userId: string, tx?: Transaction): Promise<void> {
    return this.keys.delete(userId, tx);
  }
}
