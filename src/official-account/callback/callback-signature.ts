import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * WeChat's callback signatures: the lower-case hex sha1 of the parts sorted as byte strings and
 * concatenated (`signature` over token, timestamp and nonce; `msg_signature` adds `Encrypt`).
 */
export function callbackSignature(parts: readonly string[]): string {
  const sorted = parts
    .map((part) => Buffer.from(part, 'utf8'))
    .sort(Buffer.compare)
    .map((part) => part.toString('utf8'));
  return createHash('sha1').update(sorted.join(''), 'utf8').digest('hex');
}

/**
 * Whether `given` is `expected`, in time that does not depend on where they differ. Anything but a
 * string (absent, repeated in the query) is wrong; a length mismatch still runs one comparison so
 * that it takes as long as any other refusal.
 */
export function signatureMatches(expected: string, given: unknown): boolean {
  const want = Buffer.from(expected, 'utf8');
  const got = typeof given === 'string' ? Buffer.from(given, 'utf8') : Buffer.alloc(0);
  if (got.length !== want.length) {
    timingSafeEqual(want, want);
    return false;
  }
  return timingSafeEqual(want, got);
}
