/**
 * `npm run bench` (after `npm run build`, with MariaDB and Redis up): measures the built service
 * against a bare Fastify "hello" in the same run, on 127.0.0.1 only, every run bounded in time.
 *
 * Processes: the bare Fastify server, the fake WeChat (benchmark mode: reusable codes), and the
 * service as `node dist/main.js` in production mode with REDIS_URL, once on MariaDB and once on
 * SQLite, its WeChat Pay in live mode against the fake WeChat Pay, which runs here (the bench signs
 * notifications with its keys). The load generator (autocannon as a library) runs here too; see
 * BENCHMARKS.md for how it was checked not to be the bottleneck.
 *
 * Environment: BENCH_DURATION (seconds per scenario, default 10), BENCH_WARMUP (default 2),
 * BENCH_CONNECTIONS (default 50), BENCH_DBS (default "mariadb,sqlite"), BENCH_SCENARIOS (a comma list
 * of first, live, me, me200, login, refresh, phone, order, notify, callback; default all; `first` is
 * /users/me for BENCH_DURATION seconds with no warm-up, right after /health/ready and the setup
 * logins; `order` is POST /orders, one unit of one product stocked for the whole round, a new
 * Idempotency-Key each; `notify` is POST /pay/notify with signed TRANSACTION.SUCCESS notifications
 * of orders already paid, so every one is answered 204 as a duplicate; `callback` is the official
 * account's callback in safe mode, a text message matching an auto-reply rule, each request with its
 * own nonce and MsgId, each answered with the encrypted reply),
 * BENCH_CPU_PROF (a directory: the service runs under `node --cpu-prof` and writes its profile there
 * on exit, for `npm run bench` → DevTools), BENCH_SERVICE (the built entry point, default
 * dist/main.js), BENCH_SERVICE_NODE_OPTIONS (NODE_OPTIONS of the service alone, e.g. V8 heap flags).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error autocannon ships no types; the few shapes used are declared below.
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { FakeWechatPay } from '../test/support/fake-wechat-pay.js';
import { OaCallbackBuilder } from '../test/support/oa-callback-builder.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DBS = (process.env.BENCH_DBS ?? 'mariadb,sqlite').split(',').map((s) => s.trim());
const SCENARIOS = new Set(
  (process.env.BENCH_SCENARIOS ?? 'first,live,me,me200,login,refresh,phone,order,notify,callback')
    .split(',')
    .map((s) => s.trim()),
);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const SERVICE = process.env.BENCH_SERVICE ?? 'dist/main.js';
const USERS = 500;
/** A wx.login code of the fake's benchmark mode, and the openid it logs in as (made an admin). */
const ADMIN_CODE = 'user-900000-admin';
const ADMIN_OPENID = 'o_bench_900000';
/** Orders paid before the `notify` round; their notifications rotate through it. */
const PAID_ORDERS = 200;
const APP_ID = 'wx1234567890abcdef';
const APP_SECRET = 'bench-wechat-app-secret-0123456789';
const REDIS_DB = 14;
/** The official account of the `callback` round (safe mode: every message and reply encrypted). */
const OA = {
  appId: 'wxbench0a00000000',
  secret: 'bench-official-account-secret-0123',
  token: 'benchtoken',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
const OA_KEYWORD = 'hours';
const MARIADB = 'mysql://root@127.0.0.1:3306';

interface Row {
  db: string;
  scenario: string;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  ratio: number;
  peakRssMiB: number | null;
  /** CPU time (user + system) the service spent per answered request: steadier than req/s on a shared machine. */
  cpuUsPerReq: number | null;
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

async function main(): Promise<void> {
  if (!existsSync(SERVICE)) throw new Error(`${SERVICE} is missing: run \`npm run build\` first`);
  const [barePort, fakePort] = [await freePort(), await freePort()];
  const bareServer = await startChild(
    'bare-fastify',
    'node',
    ['bench/bare-fastify.mjs', String(barePort)],
    {},
    /ready/,
  );
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  await startChild(
    'fake-wechat',
    'node',
    ['--import', 'tsx', 'test/support/fake-wechat-server.ts', String(fakePort)],
    { WECHAT_APP_ID: APP_ID, WECHAT_APP_SECRET: APP_SECRET, FAKE_WECHAT_REUSABLE_CODES: 'true' },
    /http:\/\//,
  );
  const pay = await FakeWechatPay.start({ appId: APP_ID });
  cleanups.push(() => pay.close());

  const rows: Row[] = [];
  const bare = await measure(`http://127.0.0.1:${barePort}/`, {}, CONNECTIONS, bareServer.pid);
  const bareRps = bare.requests.average;
  rows.push(row('-', 'bare Fastify hello', CONNECTIONS, bare, bareRps, null));
  console.error(`bare Fastify: ${Math.round(bareRps)} req/s`);

  for (const db of DBS) rows.push(...(await serviceRound(db, fakeUrl, pay, bareRps)));

  const results = {
    when: new Date().toISOString(),
    machine: { cores: (await import('node:os')).cpus().length, node: process.version },
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    rows,
  };
  writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  printTable(rows);
  const failed = rows.filter((r) => r.errors > 0);
  if (failed.length > 0) {
    console.error(`FAILED: errors in ${failed.map((r) => `${r.db}/${r.scenario}`).join(', ')}`);
    process.exitCode = 1;
  }
}

async function serviceRound(
  db: string,
  fakeUrl: string,
  pay: FakeWechatPay,
  bareRps: number,
): Promise<Row[]> {
  const port = await freePort();
  const redis = new Redis(`redis://127.0.0.1:6379/${REDIS_DB}`);
  await redis.flushdb();
  await redis.quit();
  let databaseUrl: string;
  if (db === 'mariadb') {
    const name = `bench_${randomBytes(4).toString('hex')}`;
    const admin = await mysql.createConnection(MARIADB);
    await admin.query(`CREATE DATABASE \`${name}\``);
    await admin.end();
    databaseUrl = `${MARIADB}/${name}`;
    cleanups.push(async () => {
      const conn = await mysql.createConnection(MARIADB);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
    databaseUrl = `sqlite:${join(dir, 'bench.sqlite')}`;
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  }
  // The service's output goes to a file, as under systemd, Docker's json-file driver or a log
  // collector's tail: the access line of every request is written, and paid for, as in production.
  const logFile = join(tmpdir(), `bench-service-${db}-${process.pid}.log`);
  const service = await startChild(
    `service-${db}`,
    'node',
    [...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []), SERVICE],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      JWT_SECRET: randomBytes(32).toString('base64'),
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE_URL: fakeUrl,
      RATE_LIMIT_ENABLED: 'false',
      ADMIN_OPENIDS: ADMIN_OPENID,
      WECHAT_OA_APP_ID: OA.appId,
      WECHAT_OA_APP_SECRET: OA.secret,
      WECHAT_OA_TOKEN: OA.token,
      WECHAT_OA_ENCODING_AES_KEY: OA.encodingAesKey,
      PUBLIC_BASE_URL: 'https://bench.example.com',
      ...pay.serviceEnv(),
      NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS ?? '',
    },
    null,
    logFile,
  );
  cleanups.push(() => {
    const lines = readFileSync(logFile, 'utf8').split('\n').length - 1;
    console.error(`service-${db} wrote ${lines} log lines to ${logFile}`);
    rmSync(logFile, { force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForReady(`${base}/api/v1/health/ready`);

  // Many users with valid tokens, logged in once before the clock starts.
  const logins = [];
  for (let i = 0; i < USERS; i++) logins.push(await login(base, `user-${i}-setup`));
  const bearers = logins.map((l) => `Bearer ${l.accessToken}`);
  let seq = 0;
  const pick = () => bearers[seq++ % bearers.length];

  const rows: Row[] = [];
  const run = async (
    key: string,
    scenario: string,
    url: string,
    options: ScenarioOptions,
    connections = CONNECTIONS,
    warmup = WARMUP,
  ) => {
    if (!SCENARIOS.has(key)) return;
    const peak = watchRss(service.pid!);
    const result = await measure(url, options, connections, service.pid, warmup);
    rows.push(row(db, scenario, connections, result, bareRps, peak.stop()));
    console.error(
      `${db} ${scenario}: ${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}`,
    );
  };

  const me = {
    requests: [{ setupRequest: (req: AutocannonRequest) => withHeaders(req, { authorization: pick() }) }],
  };
  // The first load the instance meets once /health/ready said 200 (only the setup logins before
  // it): no warm-up round, so what start-up left undone shows in its p99.
  await run('first', 'GET /users/me, first 10 s after ready', `${base}/api/v1/users/me`, me, CONNECTIONS, 0);
  await run('live', 'GET /health/live', `${base}/api/v1/health/live`, {});
  await run('me', 'GET /users/me', `${base}/api/v1/users/me`, me);
  await run('me200', 'GET /users/me', `${base}/api/v1/users/me`, me, 200);
  let code = 0;
  await run('login', 'POST /auth/wechat/login (returning)', `${base}/api/v1/auth/wechat/login`, {
    requests: [
      {
        method: 'POST',
        setupRequest: (req: AutocannonRequest) => ({
          ...withHeaders(req, { 'content-type': 'application/json' }),
          body: JSON.stringify({ code: `user-${code++ % USERS}-${code}` }),
        }),
      },
    ],
  });
  // A pool of live refresh tokens, twice the connections: each request spends the oldest, its answer
  // puts the new one back, so every token is used exactly once. (autocannon resets a connection's
  // context on every loop over its requests, so per-connection chains cannot live there.)
  const pool: string[] = [];
  if (SCENARIOS.has('refresh'))
    for (let i = 0; i < CONNECTIONS * 2; i++) pool.push((await login(base, `user-${i}-chain`)).refreshToken);
  await run('refresh', 'POST /auth/refresh', `${base}/api/v1/auth/refresh`, {
    requests: [
      {
        method: 'POST',
        setupRequest: (req: AutocannonRequest) => ({
          ...withHeaders(req, { 'content-type': 'application/json' }),
          body: JSON.stringify({ refreshToken: pool.shift() }),
        }),
        onResponse: (status: number, body: string) => {
          if (status === 200)
            pool.push((JSON.parse(body) as { data: { refreshToken: string } }).data.refreshToken);
        },
      },
    ],
  });
  let phone = 0;
  await run('phone', 'POST /users/me/phone', `${base}/api/v1/users/me/phone`, {
    requests: [
      {
        method: 'POST',
        setupRequest: (req: AutocannonRequest) => ({
          ...withHeaders(req, { 'content-type': 'application/json', authorization: pick() }),
          body: JSON.stringify({ code: `phone-${phone++}` }),
        }),
      },
    ],
  });

  const admin = ['order', 'notify', 'callback'].some((key) => SCENARIOS.has(key))
    ? await login(base, ADMIN_CODE)
    : null;
  const adminBearer = `Bearer ${admin?.accessToken}`;
  if (SCENARIOS.has('order')) {
    // One product for the whole round, stocked before the clock starts with the most the API takes
    // (1,000,000 units, far beyond what a round sells; running out would show as errors): every
    // order reserves on the same row, the hardest case for the conditional update.
    const product = await api<{ id: string }>(base, 'POST', '/products', adminBearer, {
      title: 'Bench tea',
      price: 1,
      stock: 1_000_000,
    });
    const body = JSON.stringify({ items: [{ productId: product.id, quantity: 1 }] });
    let key = 0;
    await run('order', 'POST /orders (reserve + insert)', `${base}/api/v1/orders`, {
      requests: [
        {
          method: 'POST',
          setupRequest: (req: AutocannonRequest) => ({
            ...withHeaders(req, {
              'content-type': 'application/json',
              authorization: pick(),
              'idempotency-key': `bench-${process.pid}-${key++}`,
            }),
            body,
          }),
        },
      ],
    });
  }
  if (SCENARIOS.has('notify')) {
    // Orders paid before the clock: each made, prepaid (at the fake WeChat Pay), paid there, and
    // its notification delivered once, so the round measures verification, decryption and the
    // look-up that finds the payment already applied (204, nothing written).
    const product = await api<{ id: string }>(base, 'POST', '/products', adminBearer, {
      title: 'Bench notified tea',
      price: 1,
      stock: PAID_ORDERS,
    });
    const paid = await inBatches(PAID_ORDERS, CONNECTIONS, async (i) => {
      const owner = bearers[i % bearers.length];
      const order = await api<{ id: string; outTradeNo: string }>(
        base,
        'POST',
        '/orders',
        owner,
        { items: [{ productId: product.id, quantity: 1 }] },
        { 'idempotency-key': `bench-paid-${process.pid}-${i}` },
      );
      await api(base, 'POST', `/orders/${order.id}/pay`, owner, {});
      pay.pay(order.outTradeNo);
      return { id: order.id, outTradeNo: order.outTradeNo, owner };
    });
    // Signed now, just before their round: they stay inside the ±300 s window the service allows
    // for rounds (warm-up included) of up to about four minutes.
    const notifications = paid.map(({ outTradeNo }) => {
      const built = pay.transactionNotification(outTradeNo);
      return {
        headers: { ...built.headers, 'content-type': 'application/json' },
        body: built.body.toString('utf8'),
      };
    });
    await inBatches(notifications.length, CONNECTIONS, async (i) => {
      const res = await fetch(`${base}/api/v1/pay/notify`, { method: 'POST', ...notifications[i] });
      if (res.status !== 204)
        throw new Error(`notification not applied: HTTP ${res.status} ${await res.text()}`);
      // 204 is also the answer to a notification refused after decryption: the order says which.
      const order = await api<{ status: string }>(base, 'GET', `/orders/${paid[i].id}`, paid[i].owner);
      if (order.status !== 'paid') throw new Error(`notification not applied: the order is ${order.status}`);
    });
    let next = 0;
    await run('notify', 'POST /pay/notify (duplicate)', `${base}/api/v1/pay/notify`, {
      requests: [
        {
          method: 'POST',
          setupRequest: (req: AutocannonRequest) => {
            const notification = notifications[next++ % notifications.length];
            return { ...withHeaders(req, notification.headers), body: notification.body };
          },
        },
      ],
    });
    // A refused notification is answered 204 as well: the service's own count tells them apart.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const refused = /^pay_notifications_total\{[^}]*result="(rejected|invalid|error)"[^}]*\} [1-9].*$/m.exec(
      metrics,
    );
    if (refused) {
      console.error(`FAILED: ${db} notify: not every notification was a duplicate: ${refused[0]}`);
      process.exitCode = 1;
    }
  }
  if (SCENARIOS.has('callback')) {
    await api(base, 'POST', '/admin/official/auto-replies', adminBearer, {
      match: 'exact',
      keyword: OA_KEYWORD,
      reply: 'We are open 9:00-18:00.',
    });
    // Built as each request goes out (the bench process pays a few microseconds of AES for it):
    // every one must carry a fresh nonce and MsgId, or it is a replay or a duplicate.
    const oa = new OaCallbackBuilder({ token: OA.token, encodingAesKey: OA.encodingAesKey, appId: OA.appId });
    const prefix = String(randomBytes(3).readUIntBE(0, 3));
    let n = 0;
    let unreplied = 0;
    const next = () => {
      n++;
      const xml = oa.text({ from: `o_bench_oa_${n % USERS}`, content: OA_KEYWORD, msgId: `${prefix}${n}` });
      return oa.safe(xml, { nonce: `${prefix}${n}` });
    };
    const probe = next();
    const answer = await fetch(`${base}${probe.path}`, {
      method: 'POST',
      headers: { 'content-type': probe.contentType },
      body: probe.body,
    });
    const reply = oa.readReply(await answer.text(), probe);
    if (reply.kind !== 'encrypted')
      throw new Error(`callback: expected an encrypted reply, got ${reply.kind}`);
    await run('callback', 'POST /wechat/official/callback (safe mode, auto-reply)', `${base}${probe.path}`, {
      requests: [
        {
          method: 'POST',
          setupRequest: (req: AutocannonRequest) => {
            const built = next();
            return {
              ...withHeaders(req, { 'content-type': built.contentType }),
              path: built.path,
              body: built.body,
            };
          },
          // A 200 `success` (a replay or a duplicate) would pass as a 2xx: every answer must be the reply.
          onResponse: (status: number, body: string) => {
            if (status === 200 && !body.includes('<Encrypt>')) unreplied++;
          },
        },
      ],
    });
    if (unreplied > 0) {
      console.error(`FAILED: ${db} callback: ${unreplied} answers were not the encrypted reply`);
      process.exitCode = 1;
    }
  }
  service.kill('SIGTERM');
  await once(service, 'exit');
  return rows;
}

/** `count` calls of `job`, at most `width` at a time; their results in order. */
async function inBatches<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += width) {
    const batch = Array.from({ length: Math.min(width, count - start) }, (_, j) => job(start + j));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

/** One setup call of the API (before the clock): its `data`, or it throws. */
async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  authorization: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization,
      'content-type': 'application/json',
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: T }).data;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Result {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type ScenarioOptions = Record<string, unknown>;

async function measure(
  url: string,
  options: ScenarioOptions,
  connections: number,
  pid?: number,
  warmup = WARMUP,
): Promise<Result & { cpuMs: number | null }> {
  const run = autocannon as (options: Record<string, unknown>) => Promise<Result>;
  if (warmup > 0) await run({ url, connections, duration: warmup, ...options });
  const cpuBefore = pid ? cpuMsOf(pid) : null;
  const result = await run({ url, connections, duration: DURATION, ...options });
  const cpuAfter = pid ? cpuMsOf(pid) : null;
  return { ...result, cpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null };
}

/** user + system CPU time of a process so far, in ms (Linux /proc; null elsewhere). */
function cpuMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ = 100
  } catch {
    return null;
  }
}

function withHeaders(req: AutocannonRequest, headers: Record<string, string>): AutocannonRequest {
  return { ...req, headers: { ...(req.headers ?? {}), ...headers } };
}

function row(
  db: string,
  scenario: string,
  connections: number,
  r: Result & { cpuMs?: number | null },
  bareRps: number,
  peak: number | null,
): Row {
  return {
    db,
    scenario,
    connections,
    reqPerSec: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: r.requests.total,
    ratio: Math.round((r.requests.average / bareRps) * 1000) / 1000,
    peakRssMiB: peak,
    cpuUsPerReq:
      r.cpuMs !== undefined && r.cpuMs !== null && r.requests.total > 0
        ? Math.round((r.cpuMs * 1000) / r.requests.total)
        : null,
  };
}

/** Peak resident memory of a process while a scenario runs (sampled from /proc). */
function watchRss(pid: number): { stop: () => number | null } {
  let peak = 0;
  const sample = () => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) peak = Math.max(peak, Number(match[1]));
    } catch {
      // not on Linux, or the process is gone
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak > 0 ? Math.round(peak / 1024) : null;
    },
  };
}

async function login(base: string, code: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await fetch(`${base}/api/v1/auth/wechat/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  if (!res.ok) throw new Error(`login failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: { accessToken: string; refreshToken: string } }).data;
}

async function waitForReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not become ready in 30 s`);
}

async function startChild(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  readyLine: RegExp | null,
  stdoutFile?: string,
): Promise<ChildProcess> {
  const out = stdoutFile ? openSync(stdoutFile, 'w') : readyLine ? 'pipe' : 'ignore';
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  if (typeof out === 'number') closeSync(out);
  children.push(child);
  child.once('exit', (code, signal) => {
    if (code && !signal) console.error(`${name} exited with code ${code}`);
  });
  if (readyLine) {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (readyLine.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`${name} exited early`)));
    });
    child.stdout!.resume();
  }
  return child;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function printTable(rows: Row[]): void {
  const header = [
    'db',
    'scenario',
    'conn',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'ratio',
    'peak RSS MiB',
    'CPU µs/req',
  ];
  const lines = rows.map((r) => [
    r.db,
    r.scenario,
    String(r.connections),
    String(r.reqPerSec),
    String(r.p50),
    String(r.p99),
    String(r.errors),
    r.ratio.toFixed(3),
    r.peakRssMiB === null ? '-' : String(r.peakRssMiB),
    r.cpuUsPerReq === null ? '-' : String(r.cpuUsPerReq),
  ]);
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const line of lines) out.push(`| ${line.join(' | ')} |`);
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const cleanup of cleanups) await cleanup();
}
