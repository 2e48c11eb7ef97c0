import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { MIGRATIONS } from './migrations/index.js';
import { QueryLogger } from './query-logger.js';

/**
 * One builder for the app, the CLI (ormconfig.ts) and the tests. `queryTimeoutMs` (the app's
 * request path only; never migrations, which may legitimately run long) makes a query on a silent
 * network fail fast, so the request answers 503 instead of hanging on TCP timeouts.
 */
export function dataSourceOptions(
  db: DatabaseConfig,
  options: { queryTimeoutMs?: number; entities?: DataSourceOptions['entities'] } = {},
): DataSourceOptions {
  const common = {
    // The app registers each module's entities itself (TypeOrmModule.forFeature + autoLoadEntities),
    // so the database layer names no feature; the CLI and the schema test pass src/entities.ts.
    entities: options.entities ?? [],
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
