import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { isDatabaseUnavailable, ReportsOutages, retryOnDeadlock } from './db-errors.js';

const driverError = (code: string, message = 'driver says no') =>
  Object.assign(new Error('Query failed'), { driverError: Object.assign(new Error(message), { code }) });

describe('database errors, named where they happen', () => {
  it('tells outages from faults by driver code, or by the message of a closed pool', () => {
    expect(isDatabaseUnavailable(driverError('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(driverError('PROTOCOL_SEQUENCE_TIMEOUT'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Pool is closed.'))).toBe(true);
    expect(isDatabaseUnavailable(driverError('ER_DUP_ENTRY'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
  });

  @ReportsOutages()
  class Repository {
    constructor(private readonly failure: unknown) {}
    async read(): Promise<string> {
      throw this.failure;
    }
    write(): void {
      throw this.failure;
    }
  }

  it('a repository marked @ReportsOutages() turns an outage into AppError 50300, keeping the cause', async () => {
    const cause = driverError('ECONNRESET');
    const error = await new Repository(cause).read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
    expect((error as AppError).cause).toBe(cause);
    expect(() => new Repository(cause).write()).toThrow(AppError);
  });

  it('and lets every other failure through unchanged', async () => {
    const fault = driverError('ER_PARSE_ERROR');
    await expect(new Repository(fault).read()).rejects.toBe(fault);
  });

  it('a deadlock is run again, a few times at most', async () => {
    let calls = 0;
    const result = await retryOnDeadlock(async () => {
      if (++calls < 3) throw driverError('ER_LOCK_DEADLOCK');
      return 'done';
    });
    expect([result, calls]).toEqual(['done', 3]);
    calls = 0;
    const always = retryOnDeadlock(async () => {
      calls++;
      throw driverError('ER_LOCK_DEADLOCK');
    });
    await expect(always).rejects.toHaveProperty('driverError.code', 'ER_LOCK_DEADLOCK');
    expect(calls).toBe(4);
  });
});
