import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';
import { exceededBound } from '../validation/json-bounds.js';

interface FieldError {
  field: string;
  message: string;
}

/**
 * Bounds on what reaches class-transformer and class-validator. Their cost grows faster than the
 * input: one 760 KB object of 70,000 keys held the event loop for 4.8 s and made a 4.4 MB answer
 * (one error per key). No DTO needs more than a few dozen values or a few levels, so anything past
 * these is refused in one cheap pass before the transform.
 */
export const INPUT_LIMITS = {
  maxValues: 512,
  maxDepth: 32,
  maxErrorsListed: 20,
  refuseReservedKeys: true,
  /** Field names are echoed in their errors; an unknown key of 5,000 characters must not be. */
  maxEchoed: 64,
} as const;

const shortened = (text: string, max: number = INPUT_LIMITS.maxEchoed) =>
  text.length > max ? `${text.slice(0, max)}…` : text;

function flatten(errors: ValidationError[], parent = '', out: FieldError[] = []): FieldError[] {
  for (const error of errors) {
    if (out.length >= INPUT_LIMITS.maxErrorsListed) break;
    const path = error.property
      ? parent
        ? `${parent}.${error.property}`
        : error.property
      : parent || 'body';
    const field = shortened(path);
    for (const message of Object.values(error.constraints ?? {})) {
      if (out.length >= INPUT_LIMITS.maxErrorsListed) break;
      // class-validator's messages start with the property name itself.
      out.push({ field, message: shortened(message.replace(error.property, field), 200) });
    }
    flatten(error.children ?? [], path, out);
  }
  return out;
}

function refuse(field: string, message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', {
    data: { errors: [{ field, message }] },
  });
}

/**
 * Checks the shape rules every route shares before the DTO's own: a body, when sent, is a JSON
 * object; a query parameter is given once; neither is larger or deeper than any DTO allows.
 */
class BoundedValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value !== undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw refuse('body', 'must be a JSON object');
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const where = metadata.type === 'body' ? 'body' : 'query';
      const crossed = value === undefined ? null : exceededBound(value, INPUT_LIMITS);
      if (crossed?.bound === 'values')
        throw refuse(where, `must hold at most ${INPUT_LIMITS.maxValues} values`);
      if (crossed?.bound === 'depth')
        throw refuse(where, `must not be nested more than ${INPUT_LIMITS.maxDepth} deep`);
      if (crossed?.bound === 'reserved')
        throw refuse(shortened(crossed.key), 'is not an allowed property name');
      if (metadata.type === 'query' && value) {
        const repeated = Object.entries(value).find(([, v]) => Array.isArray(v));
        if (repeated) throw refuse(shortened(repeated[0]), 'must be given at most once');
      }
    }
    return super.transform(value, metadata);
  }
}

/** Whitelist, refuse unknown properties, and answer 400 / 40000 with `data.errors[{field,message}]`. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', { data: { errors: flatten(errors) } }),
  });
}
