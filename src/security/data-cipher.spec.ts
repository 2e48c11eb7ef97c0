import { randomBytes } from 'node:crypto';
import { DataCipher } from './data-cipher.js';

describe('DataCipher (AES-256-GCM at rest)', () => {
  const cipher = new DataCipher(randomBytes(32));

  it('round-trips and never stores the plaintext', () => {
    const stored = cipher.encrypt('13800138000');
    expect(stored).not.toContain('13800138000');
    expect(stored.startsWith('v1.')).toBe(true);
    expect(cipher.decrypt(stored)).toBe('13800138000');
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('refuses tampered data and data under another key', () => {
    const stored = cipher.encrypt('13800138000');
    const parts = stored.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[0] ^= 1;
    expect(cipher.decrypt([...parts.slice(0, 3), body.toString('base64url')].join('.'))).toBeNull();
    expect(new DataCipher(randomBytes(32)).decrypt(stored)).toBeNull();
    expect(cipher.decrypt('garbage')).toBeNull();
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new DataCipher(randomBytes(16))).toThrow();
  });
});
