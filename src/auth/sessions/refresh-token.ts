import { randomToken, sha256Hex } from '../../security/hashing.js';

/**
 * Refresh tokens are `<sid>.<generation>.<32 random bytes, base64url>`: opaque to clients, stored
 * only as SHA-256. The sid finds the login with one primary-key read; the generation tells a spent
 * token (older than the login's current one: reuse) from a made-up one.
 */
export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
  hash: string;
}

const FORMAT = /^([0-9a-f-]{36})\.(\d{1,9})\.([A-Za-z0-9_-]{43})$/;

export function issueRefreshToken(sessionId: string, generation: number): { token: string; hash: string } {
  const token = `${sessionId}.${generation}.${randomToken(32)}`;
  return { token, hash: sha256Hex(token) };
}

export function parseRefreshToken(token: string): ParsedRefreshToken | null {
  const match = FORMAT.exec(token);
  if (!match) return null;
  return { sessionId: match[1], generation: Number(match[2]), hash: sha256Hex(token) };
}
