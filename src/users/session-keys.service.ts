import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { DataCipher } from '../security/data-cipher.js';
import { SessionKeyEntity } from './session-key.entity.js';

/** The WeChat session key of each user's latest login, encrypted at rest. */
@Injectable()
export class SessionKeysService {
  constructor(
    @InjectRepository(SessionKeyEntity) private readonly keys: Repository<SessionKeyEntity>,
    private readonly cipher: DataCipher,
  ) {}

  async save(userId: string, sessionKey: string, manager?: EntityManager): Promise<void> {
    const keys = manager ? manager.getRepository(SessionKeyEntity) : this.keys;
    await keys.upsert(
      { userId, sessionKeyEncrypted: this.cipher.encrypt(sessionKey), updatedAt: new Date() },
      { conflictPaths: ['userId'], skipUpdateIfNoValuesChanged: false },
    );
  }

  /** null when there is none, or it was written under another key. */
  async get(userId: string): Promise<string | null> {
    const row = await this.keys.findOneBy({ userId });
    return row ? this.cipher.decrypt(row.sessionKeyEncrypted) : null;
  }

  async delete(userId: string): Promise<void> {
    await this.keys.delete({ userId });
  }
}
