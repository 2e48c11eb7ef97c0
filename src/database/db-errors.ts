import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/** The driver's error code, whether TypeORM wrapped the error (QueryFailedError) or not. */
function driverCode(error: unknown): unknown {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null | undefined;
  return e?.driverError?.code ?? e?.code;
}

/** A duplicate key on MySQL/MariaDB (ER_DUP_ENTRY) or SQLite (SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * The database chose this statement or transaction as a deadlock victim, or it waited too long for
 * a lock (MySQL/MariaDB ER_LOCK_DEADLOCK 1213, ER_LOCK_WAIT_TIMEOUT 1205). Nothing of it was kept:
 * trying again is safe, and the contract's answer (never a 500, never half done).
 */
export function isDeadlock(error: unknown): boolean {
  const code = driverCode(error);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

const DEADLOCK_ATTEMPTS = 4;

/** Runs `work` again after a deadlock, with a short random pause so the two sides do not meet again. */
export async function retryOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= DEADLOCK_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

/**
 * Network-level failures of MySQL/MariaDB, and SQLite's file being locked or gone: the request could
 * not be served, which the API answers 503 / 50300, never 500. mysql2 gives most a code; a pool
 * closed under it (shutdown) or a connection dropped mid-query only says so in its message, as do
 * better-sqlite3 and TypeORM once the data source is closed.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
]);
const UNAVAILABLE_MESSAGES =
  /^(Pool is closed|Connection lost|Can't add new command when connection is in closed state|The database connection is not open|Connection is not established)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const candidate = e as { code?: unknown; driverError?: unknown; cause?: unknown; message?: unknown };
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_MESSAGES.test(candidate.message)) return true;
    e = candidate.driverError ?? candidate.cause;
  }
  return false;
}

/** `error` as the domain sees it: an outage becomes 503 / 50300 (its cause kept for the log). */
export function asDomainError(error: unknown): unknown {
  return isDatabaseUnavailable(error)
    ? new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, undefined, { cause: error })
    : error;
}

/**
 * Marks a repository class: every method's failure that is a database outage leaves it as an
 * AppError 50300, so services and the error filter never inspect driver errors.
 */
export function ReportsOutages(): ClassDecorator {
  return (target) => {
    const prototype = (target as unknown as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = prototype[name];
      if (name === 'constructor' || typeof method !== 'function') continue;
      prototype[name] = function (this: unknown, ...args: unknown[]) {
        try {
          const result = (method as (...a: unknown[]) => unknown).apply(this, args);
          return result instanceof Promise
            ? result.catch((error: unknown) => Promise.reject(asDomainError(error)))
            : result;
        } catch (error) {
          throw asDomainError(error);
        }
      };
    }
  };
}
