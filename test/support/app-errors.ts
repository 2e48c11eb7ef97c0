import { AppError } from '../../src/common/errors/app-error.js';
import type { ErrorCode } from '../../src/common/errors/error-code.js';

/** The AppError `promise` rejects with; a success or any other error fails the test. */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, got success');
}

/** The code of the AppError `promise` rejects with, or 'ok'. */
export async function outcome(promise: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}
