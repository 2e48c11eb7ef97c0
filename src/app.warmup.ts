import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AccessTokenService } from './auth/tokens/access-token.service.js';

/** Set while an app warms itself up: those requests are neither logged nor counted. */
export interface Warming {
  now: boolean;
}

const ROUNDS = 20;
const CONCURRENT = 20;

/**
 * What start-up can do so that the first clients do not pay for it: open every connection of the
 * database pool, and run the authenticated request path a few hundred times in-process (Fastify's
 * inject: no socket) so V8 has compiled it. The tokens name users that do not exist, so the path
 * goes through verification, the caches and a database read, and writes nothing; no rate-limited
 * route is called (the counters are shared). main.ts listens only afterwards, so /health/ready
 * answers 200 only from a warm instance.
 */
export async function warmUp(app: NestFastifyApplication, prefix: string, warming: Warming): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const dataSource = app.get(DataSource);
  const pool = dataSource.options.type === 'better-sqlite3' ? 1 : (dataSource.options.poolSize ?? 10);
  const tokens = app.get(AccessTokenService);
  const bearers = Array.from(
    { length: CONCURRENT },
    () => `Bearer ${tokens.sign({ sub: randomUUID(), sid: randomUUID() })}`,
  );
  warming.now = true;
  try {
    await Promise.all(Array.from({ length: pool }, () => dataSource.query('SELECT 1')));
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        bearers.flatMap((authorization) => [
          fastify.inject({ method: 'GET', url: `/${prefix}/users/me`, headers: { authorization } }),
          fastify.inject({ method: 'GET', url: `/${prefix}/health/live` }),
        ]),
      );
    }
  } finally {
    warming.now = false;
  }
}
