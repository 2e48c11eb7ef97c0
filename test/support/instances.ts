/**
 * Several copies of the built service (`node dist/main.js`, one child process each) sharing one
 * fresh MariaDB database, one Redis database and one fake WeChat (running in the jest process, so
 * tests can count and script its calls). `npm test` builds dist/ before jest starts.
 *
 *   let cluster: Cluster;
 *   beforeAll(async () => {
 *     cluster = await Cluster.create({ redisDb: 10, env: { RATE_LIMIT_ENABLED: 'false' } });
 *     await cluster.start(2);                              // or start([{...envA}, {...envB}])
 *   });
 *   afterAll(() => cluster?.close());
 *
 * Each instance's stdout and stderr are kept (the last 64 KiB) and quoted when it fails to start or
 * exits unexpectedly, so a failing test says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import request from 'supertest';
import type { Response } from 'supertest';
import {
  ADMIN_OPENIDS,
  APP_ID,
  APP_SECRET,
  JWT_AUDIENCE,
  JWT_ISSUER,
  MARIADB_ROOT_URL,
  bearer,
  loginAnswer,
  tokensOf,
  type Tokens,
  type UserView,
} from './app-harness.js';
import { FakeWechat, type FakeWechatOptions } from './fake-wechat-http-api.js';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;
export const MARIADB_HOST = '127.0.0.1';
export const MARIADB_PORT = 3306;

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 64 * 1024;

type Env = Record<string, string | undefined>;

export interface ClusterOptions {
  /**
   * The Redis database number this cluster owns (flushed at start and at close). The service's keys
   * have a fixed `wxb:` prefix, so each suite file takes a database of its own (9–13).
   */
  redisDb: number;
  /** Overrides for every instance (undefined removes a variable). */
  env?: Env;
  fake?: FakeWechatOptions;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `node dist/main.js` process. */
export class Instance {
  readonly url: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  private output = '';
  private exitStatus: ExitStatus | null = null;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly env: Env,
    private readonly child: ChildProcess,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        done(this.exitStatus);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitStatus === null;
  }

  /** supertest against this instance. */
  http(): ReturnType<typeof request> {
    return request(this.url);
  }

  /** What the process printed (stdout and stderr, last 64 KiB). */
  logs(): string {
    return this.output;
  }

  /** A few lines of context for assertion messages. */
  describe(lines = 30): string {
    const tail = this.output.trimEnd().split('\n').slice(-lines).join('\n');
    const status = this.exitStatus
      ? `exited (code ${this.exitStatus.code}, signal ${this.exitStatus.signal})`
      : 'running';
    return `${this.name} (pid ${this.child.pid}, port ${this.port}, ${status}); output:\n${tail || '(none)'}`;
  }

  /** GET /metrics (with METRICS_TOKEN when the instance has one); the Prometheus text. */
  async metrics(): Promise<string> {
    const req = this.http().get('/metrics');
    if (this.env.METRICS_TOKEN) req.set('Authorization', `Bearer ${this.env.METRICS_TOKEN}`);
    const res = await req;
    if (res.status !== 200) throw new Error(`/metrics on ${this.name}: HTTP ${res.status} ${res.text}`);
    return res.text;
  }

  /** The sum of the samples of one metric whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(await this.metrics(), name, labels);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Polls /api/v1/health/ready until 200 (no event says "ready" from outside the process). */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`instance did not become ready: ${this.describe()}`);
      try {
        const res = await this.http().get('/api/v1/health/ready').timeout(3000);
        if (res.status === 200) return;
        last = `HTTP ${res.status} ${res.text}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await Promise.race([sleep(100), this.exited]);
    }
    throw new Error(`instance not ready after ${timeoutMs} ms (last: ${last}): ${this.describe()}`);
  }

  /** SIGKILL, then waits for the exit. */
  async kill(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

export interface ClusterLogin {
  tokens: Tokens;
  user: UserView;
  openid: string;
  /** Authorization header value for the access token. */
  bearer: string;
}

let ipSeq = 0;
/**
 * A client address never used before in this jest process, for X-Forwarded-For (believed by an
 * instance started with TRUST_PROXY=true): each caller gets a rate-limit window of its own.
 */
export function freshIp(): string {
  ipSeq++;
  return `198.18.${(process.pid + Math.floor(ipSeq / 250)) % 250}.${(ipSeq % 250) + 1}`;
}

export class Cluster {
  readonly instances: Instance[] = [];
  private closed = false;

  private constructor(
    readonly fake: FakeWechat,
    readonly databaseName: string,
    readonly redisDb: number,
    /** The environment every instance starts with (before per-instance overrides). */
    readonly env: Env,
    private readonly redis: Redis,
  ) {}

  static async create(options: ClusterOptions): Promise<Cluster> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const fake = await FakeWechat.start({ appId: APP_ID, appSecret: APP_SECRET, ...options.fake });
    const databaseName = `cluster_${randomBytes(6).toString('hex')}`;
    const redis = new Redis({
      host: REDIS_HOST,
      port: REDIS_PORT,
      db: options.redisDb,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await redis.connect();
      await redis.flushdb();
      const admin = await mysql.createConnection(MARIADB_ROOT_URL);
      try {
        await admin.query(
          `CREATE DATABASE \`${databaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
      } finally {
        await admin.end();
      }
    } catch (error) {
      redis.disconnect();
      await fake.close();
      throw error;
    }
    const env: Env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: `${MARIADB_ROOT_URL}/${databaseName}`,
      REDIS_URL: `redis://${REDIS_HOST}:${REDIS_PORT}/${options.redisDb}`,
      WECHAT_MODE: 'live',
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE_URL: fake.url,
      WECHAT_TIMEOUT_MS: '1500',
      JWT_SECRET: `cluster-jwt-secret-${randomBytes(24).toString('hex')}`,
      JWT_ISSUER,
      JWT_AUDIENCE,
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_OPENIDS: ADMIN_OPENIDS.join(','),
      LOG_LEVEL: 'warn',
      ...options.env,
    };
    return new Cluster(fake, databaseName, options.redisDb, env, redis);
  }

  /** The cluster's MariaDB database URL with another host:port (a proxy in front of MariaDB). */
  databaseUrlVia(port: number): string {
    return `mysql://root@127.0.0.1:${port}/${this.databaseName}`;
  }

  /** The cluster's Redis URL with another port (a proxy in front of Redis). */
  redisUrlVia(port: number): string {
    return `redis://127.0.0.1:${port}/${this.redisDb}`;
  }

  /**
   * Starts instances at once (`count`, or one per override object) and waits until every one is
   * ready. Several instances starting together on the empty database also exercise the migration lock.
   */
  async start(instances: number | Env[]): Promise<Instance[]> {
    const overrides =
      typeof instances === 'number' ? Array.from({ length: instances }, () => ({})) : instances;
    const started = await Promise.all(overrides.map((env) => this.spawn(env)));
    await Promise.all(started.map((instance) => instance.waitReady()));
    return started;
  }

  private async spawn(overrides: Env): Promise<Instance> {
    const port = await freePort();
    const env: Env = { ...this.env, ...overrides, PORT: String(port) };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const child = spawn(process.execPath, [MAIN], {
      env: env as NodeJS.ProcessEnv,
      // Not the repository: a developer's .env there must not leak into the instances.
      cwd: tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const instance = new Instance(String.fromCharCode(65 + this.instances.length), port, env, child);
    this.instances.push(instance);
    return instance;
  }

  /** Logs a (new, when openid is omitted) WeChat user in through `instance`. */
  async login(instance: Instance, openid?: string): Promise<ClusterLogin> {
    const code = this.fake.newCode(openid);
    const identity = this.fake.identityForCode(code);
    const res = await this.postLogin(instance, code);
    const data = loginAnswer(res, `login on ${instance.name}`);
    return {
      tokens: tokensOf(data),
      user: data.user,
      openid: identity.openid,
      bearer: bearer(data.accessToken),
    };
  }

  /** POST /auth/wechat/login with `code`, from `ip` (a fresh address unless given; see freshIp). */
  postLogin(instance: Instance, code: unknown, ip = freshIp()): Promise<Response> {
    return instance.http().post('/api/v1/auth/wechat/login').set('X-Forwarded-For', ip).send({ code });
  }

  /** POST /auth/refresh, from `ip` (a fresh address unless given). */
  postRefresh(instance: Instance, refreshToken: unknown, ip = freshIp()): Promise<Response> {
    return instance.http().post('/api/v1/auth/refresh').set('X-Forwarded-For', ip).send({ refreshToken });
  }

  /** Keys of the cluster's Redis database matching `pattern`. */
  redisKeys(pattern = '*'): Promise<string[]> {
    return this.redis.keys(pattern);
  }

  /**
   * For each instance's pub/sub connection to this cluster's Redis database (CLIENT LIST, by the
   * connection name the service gives it), how many channels it is subscribed to.
   */
  async redisSubscriptions(): Promise<number[]> {
    const list = (await this.redis.client('LIST')) as string;
    return list
      .split('\n')
      .filter(
        (line) => / name=wechat-backend-subscriber /.test(line) && line.includes(` db=${this.redisDb} `),
      )
      .map((line) => Number(/ sub=(\d+)/.exec(line)?.[1]));
  }

  /** Kills every instance still running, drops the database and the Redis keys, stops the fake. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    await Promise.all(this.instances.map((instance) => attempt(() => instance.kill())));
    await attempt(() => this.fake.close());
    await attempt(async () => {
      const admin = await mysql.createConnection(MARIADB_ROOT_URL);
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${this.databaseName}\``);
      } finally {
        await admin.end();
      }
    });
    await attempt(() => this.redis.flushdb());
    this.redis.disconnect();
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * Polls `check` until it holds, for states no event announces from outside a process (readiness,
 * recovery after a dependency returns); throws with `what` and the last value seen otherwise.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  holds: (value: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (holds(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const seen = lastError ? String(lastError) : JSON.stringify(last);
  throw new Error(
    `timed out after ${timeoutMs} ms waiting until ${what} (last seen: ${seen?.slice(0, 500)})`,
  );
}

/** The answer and how long it took, in ms. */
export async function timed<T>(request: PromiseLike<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await request;
  return { res, ms: performance.now() - started };
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Sums the samples of `name` in Prometheus text whose labels include `labels` (0 when none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[key] = value;
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3]);
  }
  return total;
}
