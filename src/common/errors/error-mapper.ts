import { HttpException } from '@nestjs/common';
import { AppError } from './app-error.js';
import { DEFAULT_MESSAGES, ErrorCode, httpStatusOf } from './error-code.js';

export interface ErrorAnswer {
  status: number;
  code: ErrorCode;
  message: string;
  data: Record<string, unknown> | null;
  retryAfter?: number;
  /** Unexpected: log it with its stack (the client only sees 50000). */
  unexpected: boolean;
}

const BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.ROLE_FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.VALIDATION_FAILED,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.DEPENDENCY_UNAVAILABLE,
};

/** One place that decides what any thrown value looks like to the client. */
export function mapError(error: unknown): ErrorAnswer {
  if (error instanceof AppError) {
    return answer(error.code, error.message, error.data, error.retryAfter);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION_FAILED);
    const retryAfter = status === 429 ? 60 : undefined;
    // Nest maps Fastify's body errors (broken JSON, wrong content type) to 400/415 HttpExceptions.
    const data = code === ErrorCode.VALIDATION_FAILED ? bodyError(error.message) : null;
    return { ...answer(code, undefined, data, retryAfter), unexpected: status >= 500 };
  }
  // Fastify's own errors (body parsing, size limit, content type) carry statusCode + FST_ code.
  const fastify = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (
    typeof fastify?.code === 'string' &&
    fastify.code.startsWith('FST_') &&
    typeof fastify.statusCode === 'number'
  ) {
    const code = BY_STATUS[fastify.statusCode] ?? ErrorCode.VALIDATION_FAILED;
    return answer(
      code,
      undefined,
      code === ErrorCode.VALIDATION_FAILED ? bodyError(String(fastify.message)) : null,
    );
  }
  // Outages were named where they happened (repositories, the Redis boundary) as AppError 50300;
  // anything else reaching here is a fault.
  return { ...answer(ErrorCode.INTERNAL, undefined, null), unexpected: true };
}

/** `data` of a 40000 with one entry: `data.errors` is present on every 40000, as documented. */
export function fieldError(field: string, message: string): Record<string, unknown> {
  return { errors: [{ field, message: message.slice(0, 200) }] };
}

function bodyError(message: string): Record<string, unknown> {
  return fieldError('body', message);
}

function answer(
  code: ErrorCode,
  message: string | undefined,
  data: Record<string, unknown> | null,
  retryAfter?: number,
): ErrorAnswer {
  return {
    status: httpStatusOf(code),
    code,
    message: message ?? DEFAULT_MESSAGES[code],
    data,
    retryAfter,
    unexpected: false,
  };
}
