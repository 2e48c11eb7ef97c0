/**
 * The TypeORM DataSource for the CLI (`npm run migration:generate -- <Name>`, `migration:show`),
 * built from DATABASE_URL exactly as the app builds it. The app itself runs pending migrations at
 * start-up (DATABASE_MIGRATIONS_RUN); in production `npm run migration:run` does the same from dist/.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/load-config.js';
import { dataSourceOptions } from './src/database/data-source.options.js';
import { ENTITIES } from './src/entities.js';

export default new DataSource(dataSourceOptions(loadConfig(process.env).database, { entities: ENTITIES }));
