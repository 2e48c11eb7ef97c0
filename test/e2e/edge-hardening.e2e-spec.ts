import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { securityHeaders } from '../../src/common/http/security-headers.js';
import { startHarness, type Harness } from '../support/app-harness.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: { code: number; message: string; data: unknown; requestId: string };
  /** The server closed the connection after answering. */
  closed: boolean;
}

/** Sends bytes no HTTP client library would send and reads the answer until the server hangs up. */
function rawRequest(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // write, not end: a client that half-closes would hear nothing for a request cut short.
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(bytes, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      try {
        resolve({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: JSON.parse(text.slice(split + 4)) as RawAnswer['body'],
          closed: true,
        });
      } catch (error) {
        reject(new Error(`not JSON after ${statusLine}: ${(error as Error).message}`));
      }
    });
  });
}

const API_HEADERS = securityHeaders().api;

function expectEnvelopeAnswer(answer: RawAnswer, code: number): void {
  expect(answer.status).toBe(Math.floor(code / 100));
  expect(Object.keys(answer.body).sort()).toEqual(['code', 'data', 'message', 'requestId']);
  expect(answer.body.code).toBe(code);
  expect(answer.body.message.length).toBeGreaterThan(0);
  expect(answer.body.requestId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  expect(answer.headers['x-request-id']).toBe(answer.body.requestId);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  for (const [name, value] of Object.entries(API_HEADERS)) {
    expect([name, answer.headers[name.toLowerCase()]]).toEqual([name, value]);
  }
  expect(answer.headers.connection).toBe('close');
  expect(answer.closed).toBe(true);
}

describe('requests the HTTP parser refuses', () => {
  let h: Harness;
  let port: number;

  beforeAll(async () => {
    h = await startHarness();
    port = (h.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await h?.close();
  });

  const LOGIN = 'POST /api/v1/auth/wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

  it.each([
    ['bad chunked encoding', `${LOGIN}Transfer-Encoding: chunked\r\n\r\nzz\r\n{"code":"a"}\r\n0\r\n\r\n`],
    [
      'Content-Length with Transfer-Encoding',
      `${LOGIN}Content-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    ['a bare LF', 'GET /api/v1/health/live HTTP/1.1\nHost: x\n\n'],
    ['a bare CR', 'GET /api/v1/health/live HTTP/1.1\rHost: x\r\r'],
    ['a NUL in a header', 'GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nX-Note: a\0b\r\n\r\n'],
    ['a non-ASCII request target', 'GET /api/v1/h\u00e9alth/live HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a space in the request target', 'GET /api/v1/health live HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('answers %s with 400 / 40000 in the envelope, then closes', async (_label, bytes) => {
    const answer = await rawRequest(port, bytes);
    expectEnvelopeAnswer(answer, 40000);
    expect(answer.body.data).toEqual({ errors: [{ field: 'request', message: expect.any(String) }] });
  });

  it('answers headers over 16 KiB with 431 / 43100 in the envelope, then closes', async () => {
    const answer = await rawRequest(
      port,
      `GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
    );
    expectEnvelopeAnswer(answer, 43100);
    expect(answer.body.data).toBeNull();
  });

  it('answers a 100,000-character path in the envelope (431, or the router’s 404)', async () => {
    const answer = await rawRequest(port, `GET /api/v1/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect([
      [431, 43100],
      [404, 40400],
    ]).toContainEqual([answer.status, answer.body.code]);
    expect(answer.headers['x-request-id']).toBe(answer.body.requestId);
    for (const [name, value] of Object.entries(API_HEADERS)) {
      expect(answer.headers[name.toLowerCase()]).toBe(value);
    }
  });

  it('answers a 15,000-character path the parser takes with 404 / 40400 in the envelope', async () => {
    const res = await h.http().get(`/api/v1/${'a'.repeat(15_000)}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe(40400);
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });

  it('keeps serving other connections after refusing a burst of them', async () => {
    const bad = Array.from({ length: 50 }, () => rawRequest(port, 'GET / HTTP/1.1\nHost: x\n\n'));
    for (const answer of await Promise.all(bad)) expect(answer.body.code).toBe(40000);
    expect((await h.http().get('/api/v1/health/live')).status).toBe(200);
  });
});

const ORIGIN = 'https://admin.example.com';

/** Every method of every route, from the OpenAPI document (so a new route's method is covered). */
async function routeMethods(h: Harness): Promise<Array<[string, string]>> {
  const doc = (await h.http().get('/api/docs-json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const byMethod = new Map<string, string>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) {
      byMethod.set(method.toUpperCase(), path.replace('{id}', '00000000-0000-4000-8000-000000000000'));
    }
  }
  byMethod.set('HEAD', '/api/v1/users/me');
  return [...byMethod.entries()];
}

const allowed = (header: string | undefined) => (header ?? '').split(',').map((m) => m.trim());

describe('CORS with a list of origins', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { CORS_ORIGINS: `${ORIGIN},http://localhost:5173` } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets a listed origin call every method a route uses (PATCH and DELETE included)', async () => {
    const methods = await routeMethods(h);
    expect(methods.map(([method]) => method)).toEqual(expect.arrayContaining(['PATCH', 'DELETE']));
    for (const [method, path] of methods) {
      const res = await h
        .http()
        .options(path)
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect([method, res.status]).toEqual([method, 204]);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect([method, allowed(res.headers['access-control-allow-methods'])]).toEqual([
        method,
        expect.arrayContaining([method]),
      ]);
    }
  });

  it('gives no CORS grant to an unlisted origin or to the null origin', async () => {
    for (const origin of ['https://evil.example.com', 'null']) {
      const preflight = await h
        .http()
        .options('/api/v1/users/me')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'PATCH');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const get = await h.http().get('/api/v1/health/live').set('Origin', origin);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('CORS with *', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { CORS_ORIGINS: '*' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers Access-Control-Allow-Origin: * for every origin, never a reflected one (null included)', async () => {
    for (const origin of ['null', ORIGIN, 'https://other.example.org']) {
      const preflight = await h
        .http()
        .options('/api/v1/users/me')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'DELETE');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(allowed(preflight.headers['access-control-allow-methods'])).toEqual(
        expect.arrayContaining(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']),
      );
      const get = await h.http().get('/api/v1/users/me').set('Origin', origin);
      expect(get.headers['access-control-allow-origin']).toBe('*');
    }
  });
});
