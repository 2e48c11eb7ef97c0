import { createHash, randomFillSync } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Random bytes served from a 4 KiB block of the CSPRNG refilled when spent, as Node's own
 * randomUUID() does: one randomBytes() call per token and per IV was 4 % of a login's CPU. Each
 * caller gets a copy, so no two callers ever share bytes.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

export function secureRandomBytes(size: number): Buffer {
  if (size > POOL_BYTES) return randomFillSync(Buffer.alloc(size));
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}

export function randomToken(bytes = 32): string {
  return secureRandomBytes(bytes).toString('base64url');
}
