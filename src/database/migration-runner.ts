import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/config.slices.js';
import { dataSourceOptions } from './data-source.options.js';

const LOCK_NAME = 'wechat_backend_migrations';
const LOCK_WAIT_SECONDS = 60;

/**
 * Runs pending migrations at start-up (DATABASE_MIGRATIONS_RUN). Several instances may start at
 * once on an empty database and MySQL DDL is not transactional, so on MySQL the run holds a named
 * lock: the first instance migrates, the others wait, then find nothing pending.
 */
@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly database: ConfigType<typeof databaseConfig>,
  ) {}

  async onModuleInit(): Promise<void> {
    const database = this.database;
    if (!database.migrationsRun) return;
    if (this.dataSource.options.type === 'better-sqlite3') {
      await this.run(this.dataSource);
      return;
    }
    // A connection of its own, without the request path's query timeout: waiting for the lock
    // or a long migration must not be cut at 2 s.
    const migrations = await new DataSource(dataSourceOptions(database)).initialize();
    const runner = migrations.createQueryRunner();
    try {
      const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS acquired', [
        LOCK_NAME,
        LOCK_WAIT_SECONDS,
      ])) as {
        acquired: number | string | null;
      }[];
      if (Number(row?.acquired) !== 1) throw new Error('timed out waiting for another instance to migrate');
      try {
        await this.run(migrations);
      } finally {
        await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
      }
    } finally {
      await runner.release();
      await migrations.destroy();
    }
  }

  private async run(dataSource: DataSource): Promise<void> {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) this.logger.log(`applied ${migration.name}`);
  }
}
