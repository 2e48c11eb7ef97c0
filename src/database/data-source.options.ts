import type { DataSourceOptions } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { LoginSessionEntity } from '../sessions/login-session.entity.js';
import type { DatabaseConfig } from '../config/app-config.js';
import { SessionKeyEntity } from '../session-keys/session-key.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema.js';
import { QueryLogger } from './query-logger.js';

export const ENTITIES = [UserEntity, SessionKeyEntity, LoginSessionEntity, AuditEventEntity];
/** Listed, not globbed: globs differ between ts-jest, ts sources and dist under ESM. */
export const MIGRATIONS = [InitialSchema1764000000000];

/**
 * One builder for the app, the CLI (ormconfig.ts) and the tests. `queryTimeoutMs` (the app's
 * request path only; never migrations, which may legitimately run long) makes a query on a silent
 * network fail fast, so the request answers 503 instead of hanging on TCP timeouts.
 */
export function dataSourceOptions(
  db: DatabaseConfig,
  options: { queryTimeoutMs?: number } = {},
): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: db.synchronize,
    logging: false as const,
    // Slow queries as JSON lines without parameters; a timed-out query's connection is destroyed.
    logger: new QueryLogger(),
  };
  if (db.type === 'better-sqlite3') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.sqlitePath ?? ':memory:',
      // WAL lets readers proceed while a writer commits; busy_timeout queues writers instead of
      // failing with SQLITE_BUSY under concurrent requests.
      prepareDatabase: (sqlite: { pragma(source: string): unknown }) => {
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('busy_timeout = 3000');
        sqlite.pragma('synchronous = NORMAL');
      },
    };
  }
  return {
    ...common,
    // `mariadb` only changes how TypeORM reads the live schema (migration:generate, the schema test).
    type: db.type,
    url: db.url.replace(/^mariadb:/, 'mysql:'),
    // DATETIME has no zone: write and read UTC.
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    connectTimeout: 2000,
    ...(options.queryTimeoutMs
      ? { enableQueryTimeout: true, maxQueryExecutionTime: options.queryTimeoutMs }
      : {}),
    // A request needing a dead database answers 503 quickly instead of queueing forever.
    // trace: false stops mysql2 capturing a stack trace for every query (4 % of a login's CPU).
    extra: { connectionLimit: 20, maxIdle: 20, enableKeepAlive: true, queueLimit: 500, trace: false },
    poolSize: 20,
  };
}
