import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { secureRandomBytes } from './hashing.js';

export const DATA_ENCRYPTION_KEY = Symbol('DATA_ENCRYPTION_KEY');

const VERSION = 'v1';

/**
 * AES-256-GCM for personal data at rest (phone numbers, WeChat session keys). The stored form is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url) so a later key rotation can tell old values apart.
 */
@Injectable()
export class DataCipher {
  constructor(@Inject(DATA_ENCRYPTION_KEY) private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('DataCipher needs a 32-byte key');
  }

  encrypt(plaintext: string): string {
    const iv = secureRandomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Returns null for a value written under another key (e.g. a development key of an earlier run). */
  decrypt(stored: string): string | null {
    const [version, iv, tag, body] = stored.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return null;
    }
  }
}
