/**
 * Boots the real application in-process against the fake WeChat server and a fresh database
 * (MariaDB or SQLite, chosen by process.env.E2E_DB from the jest project's setup file), and offers
 * the helpers every e2e file needs. One harness per test file, started in beforeAll:
 *
 *   let h: Harness;
 *   beforeAll(async () => { h = await startHarness(); });
 *   afterAll(() => h?.close());
 */
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import request from 'supertest';
import type { Response } from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { FakeWechat } from './fake-wechat-http-api.js';

export const APP_ID = 'wx1234567890abcdef';
export const OTHER_APP_ID = 'wxfedcba0987654321';
export const APP_SECRET = 'e2e-wechat-app-secret-0123456789abcdef';
export const JWT_ISSUER = 'e2e-issuer.example';
export const JWT_AUDIENCE = 'e2e-audience.example';
/** The openids listed in ADMIN_OPENIDS: logging in as one of them gives the admin role. */
export const ADMIN_OPENIDS = ['o_e2e_admin_000000000000001', 'o_e2e_admin_000000000000002'];
export const MARIADB_ROOT_URL = 'mysql://root@127.0.0.1:3306';
export const WECHAT_TIMEOUT_MS = 1500;

export type Db = 'mariadb' | 'sqlite';

export function currentDb(): Db {
  const db = process.env.E2E_DB;
  if (db !== 'mariadb' && db !== 'sqlite') {
    throw new Error('E2E_DB must be mariadb or sqlite (set by test/support/env-<db>.ts in the jest project)');
  }
  return db;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  refreshExpiresIn: number;
}

export interface UserView {
  id: string;
  nickname: string | null;
  avatarUrl: string | null;
  gender: number | null;
  phone: string | null;
  role: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export interface LoginResult {
  res: Response;
  tokens: Tokens;
  user: UserView;
  isNewUser: boolean;
  /** What the fake handed the app (never to be seen in a response). */
  openid: string;
  sessionKey: string;
  unionid?: string;
  /** Authorization header value for this login's access token. */
  bearer: string;
}

export interface HarnessOptions {
  /** Extra or overriding environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
}

export interface Harness {
  app: NestFastifyApplication;
  fake: FakeWechat;
  db: Db;
  env: Record<string, string | undefined>;
  jwtSecret: string;
  /** supertest against the running app (listening on 127.0.0.1, port chosen by the OS). */
  http: () => ReturnType<typeof request>;
  /** Logs in through POST /api/v1/auth/wechat/login with a fresh code for `openid` (new one when omitted). */
  login: (openid?: string, extra?: { unionid?: string }) => Promise<LoginResult>;
  /** Logs in as an openid listed in ADMIN_OPENIDS. */
  loginAdmin: (index?: number) => Promise<LoginResult>;
  /** Posts a login with a given code and returns the raw answer. */
  postLogin: (code: unknown) => Promise<Response>;
  /**
   * Every row of every table of the app's database, as one JSON text (grey-box: for checks that
   * only the stored data can show, such as erasure or secrets at rest).
   */
  dumpDatabase: () => Promise<string>;
  close: () => Promise<void>;
}

export const bearer = (accessToken: string): string => `Bearer ${accessToken}`;

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = currentDb();
  const fake = await FakeWechat.start({ appId: APP_ID, appSecret: APP_SECRET });
  const cleanups: Array<() => Promise<void> | void> = [() => fake.close()];

  let databaseUrl: string;
  let dumpDatabase: () => Promise<string>;
  if (db === 'mariadb') {
    const name = `e2e_${randomBytes(6).toString('hex')}`;
    const admin = await mysql.createConnection(MARIADB_ROOT_URL);
    try {
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin.end();
    }
    databaseUrl = `${MARIADB_ROOT_URL}/${name}`;
    dumpDatabase = async () => {
      const conn = await mysql.createConnection(databaseUrl);
      try {
        const [tables] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES');
        const dump: Record<string, unknown> = {};
        for (const row of tables) {
          const table = String(Object.values(row)[0]);
          [dump[table]] = await conn.query(`SELECT * FROM \`${table}\``);
        }
        return JSON.stringify(dump, bufferAware);
      } finally {
        await conn.end();
      }
    };
    cleanups.push(async () => {
      const conn = await mysql.createConnection(MARIADB_ROOT_URL);
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    });
  } else {
    const file = join(tmpdir(), `e2e_${process.pid}_${randomBytes(6).toString('hex')}.sqlite`);
    databaseUrl = `sqlite:${file}`;
    dumpDatabase = async () => {
      const sqlite = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
          name: string;
        }>;
        const dump: Record<string, unknown> = {};
        for (const { name } of tables) dump[name] = sqlite.prepare(`SELECT * FROM "${name}"`).all();
        return JSON.stringify(dump, bufferAware);
      } finally {
        sqlite.close();
      }
    };
    cleanups.push(() => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    });
  }

  const jwtSecret = `e2e-jwt-secret-${randomBytes(24).toString('hex')}`;
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    WECHAT_MODE: 'live',
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: APP_SECRET,
    WECHAT_API_BASE_URL: fake.url,
    WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS),
    JWT_SECRET: jwtSecret,
    JWT_ISSUER,
    JWT_AUDIENCE,
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_OPENIDS: ADMIN_OPENIDS.join(','),
    RATE_LIMIT_ENABLED: 'false',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    ...options.env,
  };

  let app: NestFastifyApplication;
  try {
    app = await createApp(env, { logger: false });
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw error;
  }
  // Listen once so that concurrent supertest requests share one server (supertest would otherwise
  // call listen() per request on an idle server).
  const server = app.getHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const http = () => request(baseUrl);

  const postLogin = (code: unknown) => http().post('/api/v1/auth/wechat/login').send({ code });

  const login = async (openid?: string, extra: { unionid?: string } = {}): Promise<LoginResult> => {
    const code = fake.newCode(openid, extra);
    const identity = fake.identityForCode(code);
    const res = await postLogin(code);
    const data = loginAnswer(res, 'login');
    return {
      res,
      tokens: tokensOf(data),
      user: data.user,
      isNewUser: data.isNewUser,
      openid: identity.openid,
      sessionKey: identity.session_key,
      unionid: identity.unionid,
      bearer: bearer(data.accessToken),
    };
  };

  return {
    app,
    fake,
    db,
    env,
    jwtSecret,
    http,
    login,
    loginAdmin: (index = 0) => login(ADMIN_OPENIDS[index]),
    postLogin,
    dumpDatabase,
    close: async () => {
      try {
        await app.close();
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup();
      }
    },
  };
}

/** The data of a successful login answer (throws with the answer otherwise). */
export function loginAnswer(res: Response, what: string): Tokens & { user: UserView; isNewUser: boolean } {
  if (res.status !== 200 || res.body?.code !== 0) {
    throw new Error(`${what} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.data as Tokens & { user: UserView; isNewUser: boolean };
}

/** Just the `Tokens` of a login or refresh answer's data. */
export function tokensOf(data: Tokens): Tokens {
  const { accessToken, refreshToken, tokenType, expiresIn, refreshExpiresIn } = data;
  return { accessToken, refreshToken, tokenType, expiresIn, refreshExpiresIn };
}

/** JSON.stringify replacer showing binary columns both as base64 and as UTF-8 text. */
function bufferAware(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    const buffer = Buffer.from((value as { data: number[] }).data);
    return { base64: buffer.toString('base64'), text: buffer.toString('utf8') };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

// ------------------------------------------------------------------ envelope assertions

export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Asserts the contract's envelope shape and the X-Request-Id header; returns the body. */
export function expectEnvelope(res: Response): {
  code: number;
  message: string;
  data: unknown;
  requestId: string;
} {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.body as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'data', 'message', 'requestId']);
  expect(typeof body.code).toBe('number');
  expect(typeof body.message).toBe('string');
  expect(body.requestId).toEqual(expect.stringMatching(SANE_REQUEST_ID));
  expect(res.headers['x-request-id']).toBe(body.requestId);
  return body as { code: number; message: string; data: unknown; requestId: string };
}

/** Asserts a success envelope with the given HTTP status (200 by default); returns `data`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expectOk(res: Response, status = 200): any {
  if (res.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const body = expectEnvelope(res);
  expect(body.code).toBe(0);
  return body.data;
}

/** Asserts an error envelope: HTTP status = code's first three digits, exact code, no stack. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expectError(res: Response, code: number): any {
  const status = Math.floor(code / 100);
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(`expected HTTP ${status} / ${code}, got HTTP ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const body = expectEnvelope(res);
  expect(body.message.length).toBeGreaterThan(0);
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
  expect(text).not.toMatch(/\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b/); // no SQL
  return body.data;
}

/** Asserts a 400 / 40000 naming `field` among data.errors. */
export function expectValidationError(
  res: Response,
  field?: string,
): Array<{ field: string; message: string }> {
  const data = expectError(res, 40000) as { errors: Array<{ field: string; message: string }> };
  expect(Array.isArray(data?.errors)).toBe(true);
  expect(data.errors.length).toBeGreaterThan(0);
  for (const error of data.errors) {
    expect(typeof error.field).toBe('string');
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
  }
  if (field !== undefined) expect(data.errors.map((e) => e.field)).toContain(field);
  return data.errors;
}

/** Asserts none of `secrets` appears anywhere in the response (body and headers). */
export function expectNoSecrets(res: Response, secrets: Array<string | undefined | null>): void {
  const text = JSON.stringify(res.body) + JSON.stringify(res.headers) + (res.text ?? '');
  for (const secret of secrets) {
    if (!secret) continue;
    expect(text.includes(secret)).toBe(false);
  }
}

/** The contract's User shape, exactly these keys with these types. */
export function expectUserShape(user: unknown): asserts user is UserView {
  const u = user as Record<string, unknown>;
  expect(Object.keys(u).sort()).toEqual(
    ['avatarUrl', 'createdAt', 'gender', 'id', 'nickname', 'phone', 'role', 'status', 'updatedAt'].sort(),
  );
  expect(typeof u.id).toBe('string');
  expect((u.id as string).length).toBeGreaterThan(0);
  expect(u.nickname === null || typeof u.nickname === 'string').toBe(true);
  expect(u.avatarUrl === null || typeof u.avatarUrl === 'string').toBe(true);
  expect(u.gender === null || [0, 1, 2].includes(u.gender as number)).toBe(true);
  expect(u.phone === null || /^\+?\d{1,6}\*{4}\d{2,4}$/.test(String(u.phone))).toBe(true);
  expect(['user', 'admin']).toContain(u.role);
  expect(['active', 'disabled']).toContain(u.status);
  expect(Number.isNaN(Date.parse(String(u.createdAt)))).toBe(false);
  expect(Number.isNaN(Date.parse(String(u.updatedAt)))).toBe(false);
}

// ------------------------------------------------------------------ JWT forging

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface ForgeOptions {
  /** HMAC key (UTF-8 bytes of the string); ignored for `none`. */
  secret?: string;
  alg?: 'HS256' | 'HS384' | 'HS512' | 'none';
  header?: Record<string, unknown>;
}

/** Builds a JWT with node:crypto only: HS256/384/512 with any secret, or unsigned `alg: none`. */
export function forgeJwt(payload: Record<string, unknown>, options: ForgeOptions = {}): string {
  const alg = options.alg ?? 'HS256';
  const head = b64url({ alg, typ: 'JWT', ...options.header });
  const body = b64url(payload);
  if (alg === 'none') return `${head}.${body}.`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = createHmac(hash, options.secret ?? 'not-the-secret')
    .update(`${head}.${body}`)
    .digest('base64url');
  return `${head}.${body}.${signature}`;
}

/** The payload of a JWT, unverified. */
export function decodeJwt(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A copy of a real access token's claims, re-signed with the app's secret and changed as asked. */
export function reforge(
  h: Pick<Harness, 'jwtSecret'>,
  accessToken: string,
  changes: Record<string, unknown>,
  options: ForgeOptions = {},
): string {
  const claims = { ...decodeJwt(accessToken), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete claims[key];
  return forgeJwt(claims, { secret: h.jwtSecret, ...options });
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);
