import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { ErrorCode } from '../errors/error-code.js';

/** Where a handler's own error codes are kept until the OpenAPI document is completed. */
export const HANDLER_ERRORS_KEY = 'envelope:handler-errors';

export const REQUEST_ID_EXAMPLE = '0f1b7c52-8d2e-4c8e-9a1f-3d5c7e9b1a20';

/** The envelope's schema around `data`; `code` and `message` are overridden for error answers. */
export const envelopeOf = (
  data: object,
  fields: { code?: Record<string, unknown>; message?: Record<string, unknown> } = {},
) => ({
  type: 'object',
  required: ['code', 'message', 'data', 'requestId'],
  properties: {
    code: { type: 'integer', example: 0, ...fields.code },
    message: { type: 'string', example: 'ok', ...fields.message },
    data,
    requestId: { type: 'string', example: REQUEST_ID_EXAMPLE },
  },
});

/**
 * Documents a handler's success answer inside the envelope, and the error codes that the handler
 * itself (its service, its pipes, WeChat behind it) can give. Codes that come from the route's
 * guards, rate limits, input and dependencies are not listed here: documentRouteErrors
 * (route-errors.ts) derives them from the route's metadata, so they cannot drift from the code.
 */
export function ApiEnvelope(
  model: Type<unknown> | null,
  errors: ErrorCode[] = [],
  /** `status`: the success status when it is not 200 (201 created, 202 accepted). */
  options: { isArray?: boolean; status?: number } = {},
) {
  const data =
    model === null
      ? { type: 'object', nullable: true, example: null }
      : options.isArray
        ? { type: 'array', items: { $ref: getSchemaPath(model) } }
        : { $ref: getSchemaPath(model) };
  return applyDecorators(
    ...(model ? [ApiExtraModels(model)] : []),
    options.status === undefined || options.status === 200
      ? ApiOkResponse({ schema: envelopeOf(data) })
      : ApiResponse({ status: options.status, schema: envelopeOf(data) }),
    SetMetadata(HANDLER_ERRORS_KEY, errors),
  );
}
