/**
 * The built service (`node dist/main.js`) as a developer runs it with `npm start`: sandbox WeChat
 * and WeChat Pay, embedded SQLite in a temporary working directory of its own (DATABASE_URL unset
 * means ./data/app.sqlite there), no Redis. The JWT secret is the test's, so a test can make an
 * access token that has expired without waiting for one to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

export class LiveService {
  readonly jwtSecret = randomBytes(32).toString('hex');
  private child: ChildProcess | null = null;
  private output = '';
  private exited: Promise<void> = Promise.resolve();
  private cwd = '';
  origin = '';

  /** The API root the SDK is given. */
  get api(): string {
    return `${this.origin}/api/v1`;
  }

  async start(env: Record<string, string> = {}): Promise<void> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const port = await freePort();
    this.origin = `http://127.0.0.1:${port}`;
    this.cwd = mkdtempSync(join(tmpdir(), 'sdk-live-'));
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) =>
          !/^(DATABASE_|REDIS_|WECHAT_|JWT_|DATA_ENCRYPTION|ADMIN_|OAUTH_|PUBLIC_BASE|CORS_|NODE_OPTIONS)/.test(
            key,
          ),
      ),
    );
    this.child = spawn(process.execPath, [MAIN], {
      cwd: this.cwd,
      env: {
        ...inherited,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        JWT_SECRET: this.jwtSecret,
        DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        PUBLIC_BASE_URL: this.origin,
        ADMIN_OPENIDS: 'sandbox:sdk-admin',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-32768));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    let gone = false;
    this.exited = new Promise((done) => this.child!.once('exit', () => ((gone = true), done())));
    // Nothing outside the process says "ready" but the readiness probe.
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`the service exited during start-up:\n${this.output}`);
      try {
        const res = await fetch(`${this.api}/health/ready`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await Promise.race([sleep(100), this.exited]);
    }
    throw new Error(`the service was not ready in 25 s:\n${this.output}`);
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
    if (this.cwd) rmSync(this.cwd, { recursive: true, force: true });
  }

  logs(): string {
    return this.output;
  }

  /** The same access token with its `exp` in the past: what a token looks like once it expired. */
  expired(accessToken: string): string {
    const [header, payload] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat: number; exp: number };
    const now = Math.floor(Date.now() / 1000);
    const body = Buffer.from(JSON.stringify({ ...claims, iat: now - 120, exp: now - 60 })).toString(
      'base64url',
    );
    const signature = createHmac('sha256', this.jwtSecret).update(`${header}.${body}`).digest('base64url');
    return `${header}.${body}.${signature}`;
  }
}
