import type { ColumnOptions } from 'typeorm';

/**
 * Column shapes shared by entities and migrations so both drivers (MySQL/MariaDB via mysql2 and
 * SQLite via better-sqlite3) get the same schema. Times are DATETIME(3) holding UTC (the drivers are
 * told so), because neither MySQL DATETIME nor SQLite keeps a zone.
 */
export const timestamp = (options: Partial<ColumnOptions> = {}): ColumnOptions => ({
  type: 'datetime',
  precision: 3,
  ...options,
});

export const UUID_COLUMN = { type: 'varchar', length: 36 } as const;
