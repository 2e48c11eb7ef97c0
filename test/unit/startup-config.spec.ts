/**
 * The built service (`node dist/main.js`, as `npm run start:prod` and the Docker image start it)
 * refusing a bad production variable: one line naming it, exit code 1. Needs `npm run build`
 * (`npm test` builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:pass@127.0.0.1:1/app',
  JWT_SECRET: 'Zk3v9Q2xLr7TpW1mNc8bYh4sJd6gFa0e',
  DATA_ENCRYPTION_KEY: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('base64'),
  WECHAT_APP_ID: 'wx1234567890abcdef',
  WECHAT_APP_SECRET: 'app-secret',
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Still running: a configuration wrongly accepted starts a server that must not outlive the test. */
const running = new Set<ChildProcess>();

function run(env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('node dist/main.js with a bad production variable', () => {
  let cwd: string;
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    // Not the repository: a developer's .env there must not change what the service sees.
    cwd = mkdtempSync(join(tmpdir(), 'startup-config-'));
  });
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it.each([
    ['TRUST_PROXY', '0.0.0.0/0'],
    ['JWT_SECRET', ' '.repeat(32)],
    ['JWT_SECRET', 'a'.repeat(32)],
    ['DATA_ENCRYPTION_KEY', '===='],
    ['METRICS_TOKEN', ' '.repeat(16)],
    ['DATABASE_URL', 'sqlite::memory:'],
    ['WECHAT_API_BASE_URL', 'http://api.weixin.qq.com'],
  ])('stops at once for %s=%j: one line naming it, never its value, exit code 1', async (variable, value) => {
    const result = await run({ ...production, [variable]: value }, cwd);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^Invalid configuration: ${variable} \\S`))]);
    if (value.trim()) expect(result.stderr).not.toContain(value);
  });

  const officialAccount = {
    WECHAT_OA_APP_ID: 'wx2c2769f8efd9abc2',
    WECHAT_OA_APP_SECRET: 'oa-app-secret-0123456789',
    WECHAT_OA_TOKEN: 'spamtest',
    PUBLIC_BASE_URL: 'https://api.example.com',
  };
  it.each([
    ['WECHAT_OA_APP_SECRET', { WECHAT_OA_APP_SECRET: undefined }],
    ['WECHAT_OA_TOKEN', { WECHAT_OA_TOKEN: undefined }],
    ['PUBLIC_BASE_URL', { PUBLIC_BASE_URL: undefined }],
    ['WECHAT_OA_TOKEN', { WECHAT_OA_TOKEN: 'spam-test-token' }],
    [
      'WECHAT_OA_ENCODING_AES_KEY',
      { WECHAT_OA_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDE+' },
    ],
  ])(
    'stops at once for an official account with a bad or missing %s: one line naming it',
    async (variable, change) => {
      const env: Record<string, string> = { ...production, ...officialAccount };
      for (const [key, value] of Object.entries(change)) {
        if (value === undefined) delete env[key];
        else env[key] = value;
      }
      const result = await run(env, cwd);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^Invalid configuration: ${variable} \\S`))]);
      for (const value of Object.values(change)) if (value) expect(result.stderr).not.toContain(value);
      expect(result.stderr).not.toContain(officialAccount.WECHAT_OA_APP_SECRET);
    },
  );
});

describe('node dist/main.js outside production with no secrets set', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'startup-dev-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  /** Starts the service, returns its start-up lines once it listens, then stops it. */
  async function startAndStop(): Promise<string> {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('listening on')) resolve();
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.on('exit', () => reject(new Error(`exited before listening:\n${output}`)));
    });
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    return output;
  }

  it('keeps the generated secrets in ./data/dev-secrets.json (0600), says so, and reuses them', async () => {
    const file = join(cwd, 'data', 'dev-secrets.json');
    const first = await startAndStop();
    expect(first).toContain(
      `JWT_SECRET and DATA_ENCRYPTION_KEY not set: using the development secrets generated now and kept in ${file}`,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = await startAndStop();
    expect(second).toContain(`development secrets kept in ${file}`);
    expect(second).not.toContain('generated now');
  });
});
