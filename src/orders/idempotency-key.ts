import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { fieldError } from '../common/errors/error-mapper.js';

const KEY = /^[A-Za-z0-9._:-]{1,64}$/;
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** The key as sent, or 400 / 40000 naming the header (missing, repeated, or outside its alphabet). */
export function idempotencyKeyOf(value: unknown): string {
  if (typeof value !== 'string' || !KEY.test(value)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', {
      data: fieldError(IDEMPOTENCY_HEADER, `${IDEMPOTENCY_HEADER} must be 1-64 characters of A-Za-z0-9._:-`),
    });
  }
  return value;
}

export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string =>
  idempotencyKeyOf(ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key']),
);

export const ApiIdempotencyKey = () =>
  ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: true,
    description: 'the same key with the same items answers the same order; 1-64 characters of A-Za-z0-9._:-',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
  });
