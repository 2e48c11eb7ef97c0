import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';
import { fieldError } from '../errors/error-mapper.js';

/** At most this many characters (code points), as the contract bounds a redirect or a page URL. */
export const PAGE_URL_MAX_CHARACTERS = 1024;

/**
 * The one check of a browser page's URL handed to the service: the OAuth `redirect` and the JS-SDK
 * `url` alike. Returns the URL exactly as received (a JS-SDK signature covers it byte for byte, and
 * a redirect goes back where it was asked to).
 *
 * - 400 / 40000 (naming `field`): not a string, empty, longer than 1,024 characters, not starting
 *   with `http://` or `https://`, with a `#` (the fragment is the browser's, never sent or signed),
 *   with spaces or control characters, or not a URL at all;
 * - 400 / 40004: user info before the host (`user@host`, even empty), or an origin — as the WHATWG
 *   URL parser serialises it: lower-case scheme and host, default port dropped — that is not exactly
 *   one of `allowlist` (OAUTH_REDIRECT_ALLOWLIST; empty refuses every URL).
 */
export function checkAllowedPageUrl(value: unknown, allowlist: readonly string[], field = 'url'): string {
  const invalid = (message: string) =>
    new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', { data: fieldError(field, message) });
  if (typeof value !== 'string' || value === '') throw invalid(`${field} must be an absolute http(s) URL`);
  if ([...value].length > PAGE_URL_MAX_CHARACTERS) {
    throw invalid(`${field} must be at most ${PAGE_URL_MAX_CHARACTERS} characters`);
  }
  if (value.includes('#')) throw invalid(`${field} must not carry a fragment (#…)`);
  if (!/^https?:\/\//i.test(value)) throw invalid(`${field} must be an absolute http(s) URL`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(value))
    throw invalid(`${field} must not contain spaces or control characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field} must be an absolute http(s) URL`);
  }
  // The parser drops an empty user info (`https://@host`) and reads `\` as `/`: look at what was sent.
  const authority = value.slice(value.indexOf('//') + 2).split(/[/?\\]/, 1)[0];
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw new AppError(ErrorCode.REDIRECT_NOT_ALLOWED, 'a URL with user info is not allowed');
  }
  if (!allowlist.includes(url.origin)) throw new AppError(ErrorCode.REDIRECT_NOT_ALLOWED);
  return value;
}
