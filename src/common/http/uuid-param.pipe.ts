import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { ErrorCode } from '../errors/error-code.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An id in a path, as the API hands ids out (a lowercase UUID). The contract answers a malformed id
 * like an unknown one: 404, nothing learned. `what` names the thing in the message.
 */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw new AppError(ErrorCode.NOT_FOUND, `no such ${this.what}`);
    return value;
  }
}
