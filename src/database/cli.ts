/**
 * Migrations from the built app, without a TypeScript runtime: `node dist/database/cli.js run|revert|show`.
 * (Generating a migration needs the sources: `npm run migration:generate -- Name`.)
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { dataSourceOptions } from './data-source.options.js';

async function main(command: string | undefined): Promise<void> {
  if (process.env.NODE_ENV !== 'production' && !process.env.DATABASE_URL)
    mkdirSync('data', { recursive: true });
  const { database } = loadConfig(process.env);
  if (database.sqlitePath && database.sqlitePath !== ':memory:')
    mkdirSync(dirname(database.sqlitePath), { recursive: true });
  const dataSource = await new DataSource(dataSourceOptions(database)).initialize();
  try {
    if (command === 'run') {
      const done = await dataSource.runMigrations({ transaction: 'each' });
      process.stdout.write(
        `applied ${done.length} migration(s)${done.map((m) => `\n  ${m.name}`).join('')}\n`,
      );
    } else if (command === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write('reverted the last migration\n');
    } else if (command === 'show') {
      const pending = await dataSource.showMigrations();
      process.stdout.write(pending ? 'pending migrations exist\n' : 'schema is up to date\n');
    } else {
      throw new Error('usage: cli.js run | revert | show');
    }
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
});
