import type { ObjectLiteral, Repository } from 'typeorm';

/**
 * A multi-row INSERT whose text is built once per table from the entity's metadata, with values
 * bound as `?` (both drivers bind that way) after the driver's own conversion (UTC DATETIME on
 * MySQL, text on SQLite). Why not `repository.insert(rows)`: TypeORM's InsertQueryBuilder
 * re-derives the statement and renames every parameter on each call, a quarter of a login's CPU
 * in the profile (BENCHMARKS.md). For plain rows that set every column; no generated values.
 */
export function rowInserter<E extends ObjectLiteral>(
  repository: Repository<E>,
): (rows: E[]) => Promise<void> {
  const { driver } = repository.manager.connection;
  const { columns, tableName } = repository.metadata;
  const head = `INSERT INTO ${driver.escape(tableName)} (${columns.map((c) => driver.escape(c.databaseName)).join(', ')}) VALUES `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return async (rows) => {
    const params: unknown[] = [];
    for (const row of rows) {
      for (const column of columns)
        params.push(driver.preparePersistentValue(column.getEntityValue(row), column) ?? null);
    }
    await repository.query(head + rows.map(() => tuple).join(', '), params);
  };
}
