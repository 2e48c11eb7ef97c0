import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

interface FieldError {
  field: string;
  message: string;
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = error.property
      ? parent
        ? `${parent}.${error.property}`
        : error.property
      : parent || 'body';
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator's "property X should not exist" already names the field; keep it readable.
      message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Input nested deeper than class-transformer's recursion can go is malformed input, not a fault. */
class BoundedValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return super.transform(value, metadata).catch((error: unknown) => {
      if (!(error instanceof RangeError)) throw error;
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', {
        data: { errors: [{ field: metadata.data ?? metadata.type, message: 'is nested too deeply' }] },
      });
    });
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
