import { startHarness, type Harness } from '../support/app-harness.js';

describe('health probes and API docs', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const outsideEnvelope = (body: unknown) => {
    const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
    expect(keys.includes('requestId') && keys.includes('code')).toBe(false);
  };

  it('GET /api/v1/health/live answers 200 outside the envelope', async () => {
    const res = await h.http().get('/api/v1/health/live');
    expect(res.status).toBe(200);
    outsideEnvelope(res.body);
  });

  it('GET /api/v1/health/ready answers 200 with the database up, within 3 s', async () => {
    const started = Date.now();
    const res = await h.http().get('/api/v1/health/ready');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    outsideEnvelope(res.body);
    expect(JSON.stringify(res.body)).toMatch(/database|db/i);
  });

  it('GET /api/docs serves Swagger UI', async () => {
    const res = await h.http().get('/api/docs').redirects(2);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/swagger/i);
  });

  it('GET /api/docs-json lists every path in full, with its /api/v1 prefix and {id} parameters', async () => {
    const res = await h.http().get('/api/docs-json');
    expect(res.status).toBe(200);
    outsideEnvelope(res.body);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);

    const expected: Record<string, string[]> = {
      '/api/v1/auth/wechat/login': ['post'],
      '/api/v1/auth/refresh': ['post'],
      '/api/v1/auth/logout': ['post'],
      '/api/v1/users/me': ['get', 'patch'],
      '/api/v1/users/me/phone': ['post'],
      '/api/v1/wechat/decrypt': ['post'],
      '/api/v1/users': ['get'],
      '/api/v1/users/{id}': ['get', 'patch', 'delete'],
      '/api/v1/health/live': ['get'],
      '/api/v1/health/ready': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      expect([path, Object.keys(doc.paths[path] ?? {}).sort()]).toEqual([
        path,
        expect.arrayContaining(methods.sort()),
      ]);
    }
    for (const path of Object.keys(doc.paths)) {
      expect(path).not.toMatch(/:\w+/); // {id}, never :id
      if (path !== '/metrics') expect(path.startsWith('/api/v1/')).toBe(true);
    }
    const idParam = (
      doc.paths['/api/v1/users/{id}'].get as { parameters?: Array<{ name: string; in: string }> }
    ).parameters;
    expect(idParam).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' })]));
  });
});
