import DataLoader from 'dataloader';

/**
 * Group commit at the application's level: the single-row writes (and keyed reads) that many
 * concurrent requests make in one event-loop turn go to the database as one multi-row statement.
 * A login under load then costs a share of a few statements instead of a round trip per row; each
 * caller still awaits its own row and sees its batch's error. DataLoader (batching only, its cache
 * off) groups by `setImmediate`, i.e. across every I/O callback of the turn, not just one promise
 * chain. Not for writes whose result decides something per row (a conditional UPDATE's count).
 */
const MAX_BATCH = 500;

const options = {
  cache: false,
  maxBatchSize: MAX_BATCH,
  batchScheduleFn: (run: () => void) => setImmediate(run),
} as const;

/** `write(rows)` stores every row in one statement; the returned function stores one row. */
export function batchedWrite<T>(write: (rows: T[]) => Promise<unknown>): (row: T) => Promise<void> {
  const loader = new DataLoader<T, void>(async (rows) => {
    await write([...rows]);
    return rows.map(() => undefined);
  }, options);
  return (row) => loader.load(row);
}

/**
 * `read(keys)` fetches the rows for every key in one statement; `keyOf` tells which key a row
 * answers. The returned function reads one key (null when no row has it).
 */
export function batchedRead<K extends string, V>(
  read: (keys: K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): (key: K) => Promise<V | null> {
  const loader = new DataLoader<K, V | null>(async (keys) => {
    const rows = await read([...new Set(keys)]);
    const byKey = new Map(rows.map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  }, options);
  return (key) => loader.load(key);
}
