import DataLoader from 'dataloader';
import { retryOnDeadlock } from './db-errors.js';

/**
 * Group commit at the application's level: the single-row writes (and keyed reads) that many
 * concurrent requests make in one event-loop turn go to the database as one multi-row statement.
 * A login under load then costs a share of a few statements instead of a round trip per row; each
 * caller still awaits its own row and sees its batch's error. DataLoader (batching only, its cache
 * off) groups by `setImmediate`, i.e. across every I/O callback of the turn, not just one promise
 * chain.
 */
const MAX_BATCH = 500;

const options = {
  cache: false,
  maxBatchSize: MAX_BATCH,
  batchScheduleFn: (run: () => void) => setImmediate(run),
} as const;

/** `run(items)` handles a whole batch and answers each item, in order; the result handles one. */
export function batched<T, R>(run: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  const loader = new DataLoader<T, R>((items) => run([...items]), options);
  return (item) => loader.load(item);
}

/**
 * `write(rows)` stores every row in one statement; the returned function stores one row. A
 * multi-row insert can deadlock with a transaction touching the same index range (a disable's
 * revocation); the statement then left nothing behind and is run again.
 */
export function batchedWrite<T>(write: (rows: T[]) => Promise<unknown>): (row: T) => Promise<void> {
  return batched(async (rows: T[]) => {
    await retryOnDeadlock(() => write(rows));
    return rows.map(() => undefined);
  });
}

/**
 * `read(keys)` fetches the rows for every key in one statement; `keyOf` tells which key a row
 * answers. The returned function reads one key (null when no row has it).
 */
export function batchedRead<K extends string, V>(
  read: (keys: K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): (key: K) => Promise<V | null> {
  return batched(async (keys: K[]) => {
    const rows = await read([...new Set(keys)]);
    const byKey = new Map(rows.map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}
