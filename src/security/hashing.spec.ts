import { randomToken, secureRandomBytes } from './hashing.js';

describe('secureRandomBytes', () => {
  it('never hands the same bytes twice, across refills of its block', () => {
    const seen = new Set<string>();
    // 3,000 × 16 bytes spans a dozen 4 KiB refills.
    for (let i = 0; i < 3000; i++) seen.add(secureRandomBytes(16).toString('hex'));
    expect(seen.size).toBe(3000);
  });

  it('gives each caller its own copy, of the size asked, also past the block size', () => {
    const a = secureRandomBytes(32);
    const b = secureRandomBytes(32);
    a.fill(0);
    expect(b.equals(Buffer.alloc(32))).toBe(false);
    expect(secureRandomBytes(12)).toHaveLength(12);
    expect(secureRandomBytes(5000)).toHaveLength(5000);
  });

  it('makes 32-byte tokens as 43 base64url characters', () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
