import { DEFAULT_MESSAGES, ErrorCode, httpStatusOf } from './error-code.js';

export interface AppErrorOptions {
  /** Public details for `data` in the envelope. Never put secrets here. */
  data?: Record<string, unknown> | null;
  /** Seconds, sent as `Retry-After` (rate limits). */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * A failure the service expects and names. Services throw these; the one exception filter turns
 * them into envelopes. Nothing outside `common/errors` builds HTTP errors.
 */
export class AppError extends Error {
  readonly data: Record<string, unknown> | null;
  readonly retryAfter?: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    options: AppErrorOptions = {},
  ) {
    super(message ?? DEFAULT_MESSAGES[code], { cause: options.cause });
    this.name = 'AppError';
    this.data = options.data ?? null;
    this.retryAfter = options.retryAfter;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }
}
