import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { createAppFromConfig } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import { currentDb, expectOk, MARIADB_ROOT_URL } from '../support/app-harness.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** wx.getUserInfo-style data as WeChat encrypts it, with the session key the sandbox gives `code`. */
function sandboxEncrypted(code: string, data: Record<string, unknown>) {
  const openid = `sbx_${sha256(`openid:${code}`).toString('hex').slice(0, 28)}`;
  const sessionKey = sha256(`session:${openid}`).subarray(0, 16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', sessionKey, iv);
  const plain = JSON.stringify({
    ...data,
    watermark: { appid: 'wxsandbox000000000', timestamp: Math.floor(Date.now() / 1000) },
  });
  const encryptedData = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
  return { encryptedData, iv: iv.toString('base64') };
}

// `npm start` outside production with no JWT_SECRET or DATA_ENCRYPTION_KEY: a restart used to log
// every sandbox user out and make every stored session key (and phone) unreadable.
describe('development secrets across a restart', () => {
  let dir: string;
  let databaseUrl: string;
  let dropDatabase = async () => {};
  let app: NestFastifyApplication | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-dev-secrets-'));
    if (currentDb() === 'sqlite') {
      databaseUrl = `sqlite:${join(dir, 'app.sqlite')}`;
    } else {
      const name = `e2e_dev_${randomBytes(6).toString('hex')}`;
      const admin = await mysql.createConnection(MARIADB_ROOT_URL);
      await admin.query(`CREATE DATABASE \`${name}\``).finally(() => admin.end());
      databaseUrl = `${MARIADB_ROOT_URL}/${name}`;
      dropDatabase = async () => {
        const conn = await mysql.createConnection(MARIADB_ROOT_URL);
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => conn.end());
      };
    }
  });
  afterAll(async () => {
    await app?.close();
    await dropDatabase();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One `npm start`: development, sandbox WeChat, no secrets given. */
  async function start() {
    const env = { NODE_ENV: 'development', DATABASE_URL: databaseUrl, RATE_LIMIT_ENABLED: 'false' };
    // As main.ts asks. SQLite: the secrets go beside the database file; for MariaDB a directory
    // is named so that the test writes nothing into the repository's ./data.
    const config = loadConfig(
      env,
      currentDb() === 'sqlite' ? { keepDevSecrets: true } : { devSecretsDir: dir },
    );
    app = await createAppFromConfig(config, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { config, http: () => request(`http://127.0.0.1:${port}`) };
  }

  it('keeps sandbox logins and data encrypted at rest readable, from ./dev-secrets.json (0600)', async () => {
    const first = await start();
    const tokens = expectOk(await first.http().post('/api/v1/auth/wechat/login').send({ code: 'alice' }));
    const bearer = `Bearer ${tokens.accessToken}`;
    const me = expectOk(await first.http().get('/api/v1/users/me').set('Authorization', bearer));
    await app!.close();
    app = undefined;

    const second = await start();
    expect(second.config.notices.join('\n')).toContain(`kept in ${join(dir, 'dev-secrets.json')}`);
    expect(statSync(join(dir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
    // The access token is still good, and so is the refresh token.
    expect(expectOk(await second.http().get('/api/v1/users/me').set('Authorization', bearer)).id).toBe(me.id);
    expectOk(await second.http().post('/api/v1/auth/refresh').send({ refreshToken: tokens.refreshToken }));
    // The session key stored (encrypted) by the first process still decrypts.
    const decrypted = expectOk(
      await second
        .http()
        .post('/api/v1/wechat/decrypt')
        .set('Authorization', bearer)
        .send(sandboxEncrypted('alice', { nickName: 'Alice' })),
    );
    expect(decrypted).toMatchObject({ nickName: 'Alice' });
  });
});
