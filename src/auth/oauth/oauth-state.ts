import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo';
export const OAUTH_SCOPES: readonly OAuthScope[] = ['snsapi_base', 'snsapi_userinfo'];

/** A state lives 10 minutes; so does the cookie it is bound to. */
export const STATE_TTL_MS = 600_000;
export const BINDING_COOKIE = 'wxb_oauth';

/** What the service keeps about a state until it is spent (the redirect may be 1,024 characters). */
export interface StateRecord {
  scope: OAuthScope;
  redirect: string;
}

/**
 * id (16 random bytes, hex) ‖ expiry (Unix seconds, 10 digits) ‖ HMAC-SHA256 (first 16 bytes, hex):
 * 74 characters of [0-9a-f], inside WeChat's A-Za-z0-9 and 128-byte limit for `state`.
 */
const STATE = /^([0-9a-f]{32})(\d{10})([0-9a-f]{32})$/;
/** The browser binding: 32 random bytes, base64url. */
const BINDING = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs and checks web sign-in states. The key is derived from JWT_SECRET (HKDF-SHA256 with a
 * label of its own, so no state is ever a valid signature of anything else made with that secret).
 * The MAC covers the id, the expiry, the scope, the exact redirect and the browser's `wxb_oauth`
 * cookie: a state works only with what it was made for, in the browser it was made for.
 */
export class OAuthStateSigner {
  private readonly key: Buffer;

  constructor(
    jwtSecret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, 'wxb-oauth-state', 'oauth state v1', 32));
  }

  issue(record: StateRecord, binding: string): { id: string; state: string } {
    const id = randomBytes(16).toString('hex');
    const expires = String(Math.floor((this.now() + STATE_TTL_MS) / 1000)).padStart(10, '0');
    return { id, state: id + expires + this.mac(id, expires, record, binding) };
  }

  /** The id to look the record up by, when the state is well formed and not expired; else null. */
  idOf(state: unknown): string | null {
    if (typeof state !== 'string') return null;
    const parts = STATE.exec(state);
    if (!parts) return null;
    return Number(parts[2]) * 1000 > this.now() ? parts[1] : null;
  }

  /** Whether `state` was made by this service for `record` and this browser's binding. */
  verify(state: string, record: StateRecord, binding: string | null): boolean {
    const parts = STATE.exec(state);
    if (!parts || binding === null || !isBinding(binding)) return false;
    const expected = Buffer.from(this.mac(parts[1], parts[2], record, binding), 'hex');
    return timingSafeEqual(expected, Buffer.from(parts[3], 'hex'));
  }

  private mac(id: string, expires: string, record: StateRecord, binding: string): string {
    return createHmac('sha256', this.key)
      .update(JSON.stringify([id, expires, record.scope, record.redirect, binding]))
      .digest()
      .subarray(0, 16)
      .toString('hex');
  }
}

export function newBinding(): string {
  return randomBytes(32).toString('base64url');
}

export function isBinding(value: unknown): value is string {
  return typeof value === 'string' && BINDING.test(value);
}

/** The value of one cookie in a Cookie header (the first of that name), or null. */
export function readCookie(header: string | string[] | undefined, name: string): string | null {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return null;
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    if (pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return null;
}

/** The Set-Cookie value of the browser binding: readable by this service's OAuth routes only. */
export function bindingCookie(value: string, options: { path: string; secure: boolean }): string {
  return [
    `${BINDING_COOKIE}=${value}`,
    `Max-Age=${STATE_TTL_MS / 1000}`,
    `Path=${options.path}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
