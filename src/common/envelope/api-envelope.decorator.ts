import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorCode, httpStatusOf } from '../errors/error-code.js';

const envelopeOf = (data: Record<string, unknown>) => ({
  type: 'object',
  required: ['code', 'message', 'data', 'requestId'],
  properties: {
    code: { type: 'integer', example: 0 },
    message: { type: 'string', example: 'ok' },
    data,
    requestId: { type: 'string', example: '0f1b7c52-8d2e-4c8e-9a1f-3d5c7e9b1a20' },
  },
});

/**
 * Documents a handler's success answer inside the envelope, and the error codes it can give
 * (each error is the same envelope with `data` null or details).
 */
export function ApiEnvelope(
  model: Type<unknown> | null,
  errors: ErrorCode[] = [],
  options: { isArray?: boolean } = {},
) {
  const data =
    model === null
      ? { type: 'object', nullable: true, example: null }
      : options.isArray
        ? { type: 'array', items: { $ref: getSchemaPath(model) } }
        : { $ref: getSchemaPath(model) };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [ErrorCode.VALIDATION_FAILED, ...errors]) {
    const status = httpStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...(model ? [ApiExtraModels(model)] : []),
    ApiOkResponse({ schema: envelopeOf(data) }),
    ...[...byStatus].map(([status, codes]) =>
      ApiResponse({
        status,
        description: `code ${[...new Set(codes)].join(' / ')}`,
        schema: envelopeOf({ type: 'object', nullable: true }),
      }),
    ),
  );
}
