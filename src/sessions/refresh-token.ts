import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { randomToken, sha256Hex } from '../security/hashing.js';

/**
 * Refresh tokens are `<sid>.<generation>.<32 random bytes>.<tag>`, base64url, opaque to clients and
 * stored only as SHA-256. The sid finds the login with one primary-key read; the generation tells a
 * spent token (older than the login's current one) from the current one.
 *
 * The tag, an HMAC under a key only this service holds, proves that we issued the token. Without
 * it, anyone who had seen one access token (its `sid` claim) could make up `<sid>.0.<anything>`,
 * which looked like a spent token: the login was revoked as stolen and a false theft entry written.
 * Reuse is now declared only for a token whose tag verifies.
 */
export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
  hash: string;
  /** The tag verified: we issued this token (possibly long ago). Legacy tokens have no tag. */
  issuedByUs: boolean;
}

const FORMAT = /^([0-9a-f-]{36})\.(\d{1,9})\.([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_-]{22}))?$/;
const TAG_BYTES = 16;

export class RefreshTokenCodec {
  private readonly key: Buffer;

  /** `secret`: the JWT signing secret; the tag key is derived from it, never the secret itself. */
  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), '', 'refresh-token-tag', 32));
  }

  issue(sessionId: string, generation: number): { token: string; hash: string } {
    const body = `${sessionId}.${generation}.${randomToken(32)}`;
    const token = `${body}.${this.tag(body).toString('base64url')}`;
    return { token, hash: sha256Hex(token) };
  }

  /**
   * null when the token cannot be one of ours at all. A token without a tag (issued before tags
   * existed) still parses, so those logins survive the upgrade, but it can never prove reuse.
   */
  parse(token: string): ParsedRefreshToken | null {
    const match = FORMAT.exec(token);
    if (!match) return null;
    const [, sessionId, generation, nonce, tag] = match;
    let issuedByUs = false;
    if (tag !== undefined) {
      const given = Buffer.from(tag, 'base64url');
      const expected = this.tag(`${sessionId}.${generation}.${nonce}`);
      if (given.length !== TAG_BYTES || !timingSafeEqual(given, expected)) return null;
      issuedByUs = true;
    }
    return { sessionId, generation: Number(generation), hash: sha256Hex(token), issuedByUs };
  }

  private tag(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, TAG_BYTES);
  }
}
