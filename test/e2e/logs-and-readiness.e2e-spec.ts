/**
 * What the log says about client aborts and failing dependencies, and what the unauthenticated
 * readiness probe gives away. These apps log at debug into a capture the test reads, and their
 * dependencies fail through servers of the test's own (never the shared MariaDB or Redis).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { currentDb, MARIADB_ROOT_URL } from '../support/app-harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- log lines are free-form JSON
type Line = Record<string, any> & { level: number; msg?: string };

/** A pino destination that keeps every line and lets a test wait for the one it expects. */
class LogCapture extends EventEmitter {
  readonly lines: Line[] = [];

  write(text: string): void {
    const line = JSON.parse(text) as Line;
    this.lines.push(line);
    this.emit('line', line);
  }

  waitFor(predicate: (line: Line) => boolean): Promise<Line> {
    const seen = this.lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (line: Line) => {
        if (!predicate(line)) return;
        this.off('line', listener);
        resolve(line);
      };
      this.on('line', listener);
    });
  }
}

interface LoggedApp {
  app: NestFastifyApplication;
  log: LogCapture;
  port: number;
  http: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

/** A database of its own: a SQLite file, or a MariaDB database (reached through `via` if given). */
async function freshDatabase(via?: (port: number) => Promise<number>) {
  if (currentDb() === 'sqlite') {
    const file = join(tmpdir(), `e2e_logs_${process.pid}_${randomBytes(6).toString('hex')}.sqlite`);
    return {
      url: `sqlite:${file}`,
      drop: async () => {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
      },
    };
  }
  const name = `e2e_logs_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection(MARIADB_ROOT_URL);
  await admin.query(`CREATE DATABASE \`${name}\``).finally(() => admin.end());
  const port = via ? await via(3306) : 3306;
  return {
    url: `mysql://root@127.0.0.1:${port}/${name}`,
    drop: async () => {
      const conn = await mysql.createConnection(MARIADB_ROOT_URL);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => conn.end());
    },
  };
}

async function startLoggedApp(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { warmUp?: boolean } = {},
): Promise<LoggedApp> {
  const log = new LogCapture();
  const app = await createApp(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      DATABASE_URL: databaseUrl,
      WECHAT_MODE: 'sandbox',
      JWT_SECRET: `e2e-jwt-secret-${randomBytes(24).toString('hex')}`,
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      RATE_LIMIT_ENABLED: 'false',
      ...env,
    },
    { logDestination: log, ...options },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    log,
    port,
    http: () => request(`http://127.0.0.1:${port}`),
    close: () => app.close(),
  };
}

/** A port nothing listens on (an unreachable Redis). */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const warnings = (log: LogCapture) => log.lines.filter((line) => line.level >= 40);

describe('a client that aborts its request half-way through the body', () => {
  let subject: LoggedApp;
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    database = await freshDatabase();
    subject = await startLoggedApp(database.url);
  });
  afterAll(async () => {
    await subject?.close();
    await database?.drop();
  });

  it.each([
    ['closes the connection', 'destroy'],
    ['resets the connection', 'resetAndDestroy'],
  ] as const)(
    'is logged as a client abort at debug when it %s, not as an unavailable dependency',
    async (_label, hangUp) => {
      const arrived = once(subject.app.getHttpServer(), 'request');
      const socket = connect(subject.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        'POST /api/v1/auth/wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 100\r\n\r\n{"code":',
      );
      await arrived;
      socket[hangUp]();

      const line = await subject.log.waitFor((l) => /client aborted/.test(l.msg ?? ''));
      expect(line).toMatchObject({ level: 20, context: 'Errors', path: '/api/v1/auth/wechat/login' });
      expect(warnings(subject.log).filter((l) => /dependency|50300/.test(JSON.stringify(l)))).toEqual([]);
      const metrics = await subject.http().get('/metrics');
      expect(metrics.text).not.toMatch(/^http_requests_total\{[^}]*status="5\d\d"/m);
    },
  );
});

describe('/health/ready with Redis unreachable', () => {
  let subject: LoggedApp;
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    database = await freshDatabase();
    subject = await startLoggedApp(database.url, { REDIS_URL: `redis://127.0.0.1:${await closedPort()}/0` });
  });
  // Within the default hook time limit: nothing of the shutdown waits for the unreachable Redis.
  afterAll(async () => {
    await subject?.close();
    await database?.drop();
  });

  it('answers 503 naming the check that failed, with no driver message; the log has the details', async () => {
    const res = await subject.http().get('/api/v1/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'error',
      info: { database: { status: 'up' } },
      error: { redis: { status: 'down' } },
      details: { database: { status: 'up' }, redis: { status: 'down' } },
    });
    const line = await subject.log.waitFor((l) => l.msg === 'not ready: redis down');
    expect(line.level).toBe(40);
    expect(line.checks.redis.message).toEqual(expect.any(String));
    expect(res.text).not.toContain(line.checks.redis.message);

    // A dependency that stays down is not a new warning on every probe.
    const before = warnings(subject.log).length;
    expect((await subject.http().get('/api/v1/health/ready')).status).toBe(503);
    expect(
      warnings(subject.log)
        .slice(before)
        .filter((l) => /not ready/.test(l.msg ?? '')),
    ).toEqual([]);
  });
});

// MariaDB only, registered only there (no skipped test on SQLite): an embedded file cannot be cut
// off by a network.
if (currentDb() === 'mariadb')
  describe('/health/ready with the database unreachable', () => {
    let subject: LoggedApp;
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let proxy: TcpProxy;

    beforeAll(async () => {
      database = await freshDatabase(async (port) => {
        proxy = await TcpProxy.start({ host: '127.0.0.1', port });
        return proxy.port;
      });
      subject = await startLoggedApp(database.url);
    });
    afterAll(async () => {
      await proxy?.restore();
      await subject?.close();
      await proxy?.close();
      await database?.drop();
    });

    it('answers 503 naming the database only; the driver message goes to the log', async () => {
      expect((await subject.http().get('/api/v1/health/ready')).status).toBe(200);
      await proxy.cut();
      const res = await subject.http().get('/api/v1/health/ready');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        status: 'error',
        info: {},
        error: { database: { status: 'down' } },
        details: { database: { status: 'down' } },
      });
      expect(res.text).not.toMatch(/ECONN|connect|127\.0\.0\.1|timeout/i);
      const line = await subject.log.waitFor((l) => l.msg === 'not ready: database down');
      expect(line.checks.database.message).toEqual(expect.any(String));
    });
  });

describe('warm-up before listening', () => {
  let subject: LoggedApp;
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    database = await freshDatabase();
    subject = await startLoggedApp(database.url, {}, { warmUp: true });
  });
  afterAll(async () => {
    await subject?.close();
    await database?.drop();
  });

  it('runs the request path in-process, leaving no access line and no request in the metrics', async () => {
    expect(subject.log.lines.filter((l) => /^request /.test(l.msg ?? ''))).toEqual([]);
    const metrics = await subject.http().get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).not.toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/users\/me"/);
    // Requests after it are logged and counted as always.
    expect((await subject.http().get('/api/v1/users/me')).status).toBe(401);
    await subject.log.waitFor(
      (l) => l.msg === 'request completed' && (l as { path?: string }).path === '/api/v1/users/me',
    );
    const after = await subject.http().get('/metrics');
    expect(after.text).toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/users\/me"[^}]*\} 1\b/);
  });
});
