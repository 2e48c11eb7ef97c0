import { expectError, startHarness, type Harness } from '../support/app-harness.js';

describe('security headers', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const expectApiHeaders = (headers: Record<string, string>) => {
    expect(headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    // Answers carry tokens and personal data: no cache may keep them.
    expect(headers['cache-control']).toBe('no-store');
  };

  it('puts the API set on successful answers, such as a login with its tokens', async () => {
    const { res } = await h.login();
    expectApiHeaders(res.headers as Record<string, string>);
  });

  it('puts the API set on error answers and on unknown routes', async () => {
    const unauthenticated = await h.http().get('/api/v1/users/me');
    expectError(unauthenticated, 40100);
    expectApiHeaders(unauthenticated.headers as Record<string, string>);
    const unknown = await h.http().get('/api/v1/no-such-route');
    expectError(unknown, 40400);
    expectApiHeaders(unknown.headers as Record<string, string>);
  });

  it("gives Swagger UI helmet's page set, with a CSP that lets its inline scripts run", async () => {
    const res = await h.http().get('/api/docs').redirects(2);
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self' 'unsafe-inline'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  });
});
