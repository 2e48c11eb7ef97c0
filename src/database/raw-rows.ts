import type { ObjectLiteral, Repository } from 'typeorm';

/**
 * Statements of the hot paths (login, refresh) built once per table from the entity's metadata,
 * with values bound as `?` (both drivers bind that way) and converted by the driver itself, both
 * ways (UTC DATETIME on MySQL, text on SQLite). Why not the repository's own methods: TypeORM's
 * query builders re-derive the statement, rename every parameter and walk the metadata on each
 * call, a quarter of a login's CPU in the profile (BENCHMARKS.md). For plain entities only (no
 * relations, no embedded or generated columns), which is all the hot paths touch.
 */

/**
 * `INSERT … VALUES (…), (…)` of whole rows: every column is written. With `onConflict` (the
 * primary or a unique key's property), a row whose key exists replaces that row's other columns
 * instead, in each driver's dialect. Rows of one call must not repeat a key.
 */
export function rowInserter<E extends ObjectLiteral>(
  repository: Repository<E>,
  onConflict?: keyof E & string,
): (rows: E[]) => Promise<void> {
  const { driver } = repository.manager.connection;
  const { columns, tableName } = repository.metadata;
  const names = columns.map((c) => driver.escape(c.databaseName));
  const head = `INSERT INTO ${driver.escape(tableName)} (${names.join(', ')}) VALUES `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const tail = onConflict ? upsertClause(repository, onConflict) : '';
  return async (rows) => {
    const params: unknown[] = [];
    for (const row of rows) {
      for (const column of columns)
        params.push(driver.preparePersistentValue(column.getEntityValue(row), column) ?? null);
    }
    await repository.query(head + rows.map(() => tuple).join(', ') + tail, params);
  };
}

function upsertClause<E extends ObjectLiteral>(repository: Repository<E>, property: string): string {
  const { driver, options } = repository.manager.connection;
  const key = repository.metadata.findColumnWithPropertyName(property);
  if (!key) throw new Error(`${repository.metadata.name} has no column ${property}`);
  const others = repository.metadata.columns
    .filter((c) => c !== key)
    .map((c) => driver.escape(c.databaseName));
  if (options.type === 'better-sqlite3') {
    return ` ON CONFLICT (${driver.escape(key.databaseName)}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  }
  // MySQL 8 and MariaDB both accept VALUES(col) here (MySQL 8.0.20+ with a deprecation note).
  return ` ON DUPLICATE KEY UPDATE ${others.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
}

/**
 * `SELECT <every column> … WHERE <property> IN (…)`, hydrated as `find()` would. `shareLock` makes
 * it a locking read on MySQL/MariaDB (it waits for transactions holding those rows and sees what
 * they committed); SQLite has one writer at a time, so a plain read already sees committed rows.
 */
export function rowReader<E extends ObjectLiteral>(
  repository: Repository<E>,
  property: keyof E & string,
  options: { shareLock?: boolean } = {},
): (keys: readonly unknown[]) => Promise<E[]> {
  const { driver } = repository.manager.connection;
  const { metadata } = repository;
  const key = metadata.findColumnWithPropertyName(property);
  if (!key) throw new Error(`${metadata.name} has no column ${property}`);
  const head =
    `SELECT ${metadata.columns.map((c) => driver.escape(c.databaseName)).join(', ')} ` +
    `FROM ${driver.escape(metadata.tableName)} WHERE ${driver.escape(key.databaseName)} IN (`;
  const lock =
    options.shareLock && repository.manager.connection.options.type !== 'better-sqlite3'
      ? ' LOCK IN SHARE MODE'
      : '';
  return async (keys) => {
    const rows: Array<Record<string, unknown>> = await repository.query(
      `${head}${keys.map(() => '?').join(', ')})${lock}`,
      keys.map((value) => driver.preparePersistentValue(value, key)),
    );
    return rows.map((row) => {
      const entity = metadata.create() as E;
      for (const column of metadata.columns) {
        column.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column));
      }
      return entity;
    });
  };
}
