import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';

/** mysql2's error for a query that outlived its `timeout` (the request path's query time limit). */
const QUERY_TIMEOUT = 'PROTOCOL_SEQUENCE_TIMEOUT';

/**
 * TypeORM's logger for every data source of the app. TypeORM calls it on every query whatever
 * `logging` says, and its default one prints slow queries to stdout as plain text *with their
 * parameters* (openids among them): here slow queries are one JSON line through the app's logger,
 * naming the statement and table, never a parameter.
 *
 * It also looks after the pool. mysql2 gives up on a timed-out query but leaves it as its
 * connection's current command; released to the pool, that connection would hold the next query
 * behind it, whose own time limit only starts once it runs, so on a silent network the next
 * request on that connection hung for minutes instead of answering 503 within the limit. A query
 * that timed out therefore takes its connection down with it, and the pool opens a fresh one.
 */
export class QueryLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');

  logQuery(): void {
    // Not logged: statements carry user data in their parameters.
  }

  logQueryError(
    error: string | Error,
    _query: string,
    _parameters?: unknown,
    queryRunner?: QueryRunner,
  ): void {
    if (typeof error === 'object' && (error as { code?: unknown }).code === QUERY_TIMEOUT) {
      const connection = (queryRunner as { databaseConnection?: { destroy?: () => void } } | undefined)
        ?.databaseConnection;
      connection?.destroy?.();
    }
    // The error itself reaches the caller, which maps and logs it (with the request id).
  }

  logQuerySlow(time: number, query: string, _parameters?: unknown): void {
    this.logger.warn(`slow query (${time} ms): ${summary(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}

/** The statement and the table it touches: `SELECT … FROM users`, `UPDATE users`. */
export function summary(query: string): string {
  const verb = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? 'QUERY';
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+[`"]?([\w.]+)[`"]?/i.exec(query)?.[1];
  return table ? `${verb} … ${table}` : verb;
}
