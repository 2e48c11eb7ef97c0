/**
 * The error responses of the served OpenAPI document: the codes a route's guards, rate limits,
 * input and dependencies add are derived from its metadata, on top of the handler's own list.
 */
import { ErrorCode, httpStatusOf } from '../../src/common/errors/error-code.js';
import { startHarness, type Harness } from '../support/app-harness.js';

interface Schema {
  required?: string[];
  properties?: Record<string, Schema & { enum?: number[] }>;
}

interface MediaType {
  schema?: Schema;
  examples?: Record<string, { value: { code: number; message: string; requestId: string } }>;
}

interface Operation {
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

describe('OpenAPI error responses', () => {
  let h: Harness;
  let paths: Record<string, Record<string, Operation>>;

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.http().get('/api/docs-json');
    expect(res.status).toBe(200);
    paths = (res.body as { paths: typeof paths }).paths;
  });
  afterAll(async () => {
    await h?.close();
  });

  const operation = (method: string, path: string): Operation => {
    const found = paths[path]?.[method];
    if (!found) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
    return found;
  };

  const operations = (): Array<[string, Operation]> =>
    Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
    );

  /** WeChat Pay's notifications and the official account's callback answer in WeChat's shapes. */
  const WECHAT_CALLS = / \/api\/v1\/(pay\/(refund-)?notify|wechat\/official\/callback)$/;

  /** The codes of every error response, as the schema's `code` enum gives them. */
  const codesOf = (op: Operation): number[] =>
    Object.entries(op.responses)
      .filter(([status]) => Number(status) >= 400)
      .flatMap(([, response]) => response.content?.['application/json']?.schema?.properties?.code?.enum ?? [])
      .sort((a, b) => a - b);

  it('POST /api/v1/wechat/decrypt lists the codes of its guard, rate limit, body and dependencies', () => {
    expect(codesOf(operation('post', '/api/v1/wechat/decrypt'))).toEqual(
      expect.arrayContaining([40000, 40002, 40100, 40101, 40104, 40301, 41300, 42900, 50000, 50300]),
    );
  });

  it('POST /api/v1/auth/refresh lists its own codes and those of its rate limit, body and dependencies', () => {
    expect(codesOf(operation('post', '/api/v1/auth/refresh'))).toEqual(
      expect.arrayContaining([40000, 40102, 40103, 40301, 42900, 50300]),
    );
  });

  it('GET /api/v1/users (admin only) lists 40300, and 40000 for its query', () => {
    expect(codesOf(operation('get', '/api/v1/users'))).toEqual(expect.arrayContaining([40000, 40300, 40301]));
  });

  it('a route without roles does not list 40300; one without body or query does not list 40000', () => {
    const me = codesOf(operation('get', '/api/v1/users/me'));
    expect(me).not.toContain(40300);
    expect(me).not.toContain(40000);
    expect(me).not.toContain(41300);
    expect(me).toEqual(expect.arrayContaining([40100, 40101, 40301, 50300]));
  });

  it('public routes (login, refresh) do not list the access-token codes', () => {
    for (const path of ['/api/v1/auth/wechat/login', '/api/v1/auth/refresh']) {
      const codes = codesOf(operation('post', path));
      expect([path, codes.includes(40100), codes.includes(40101)]).toEqual([path, false, false]);
    }
  });

  it('every enveloped operation lists 50000 and 50300; the health probes and the routes WeChat calls list no envelope errors', () => {
    const listed = operations().filter(([name]) => name.includes(' /api/v1/'));
    expect(listed.length).toBeGreaterThan(0);
    for (const [name, op] of listed) {
      const codes = codesOf(op);
      if (/ \/api\/v1\/health\//.test(name)) expect([name, codes]).toEqual([name, []]);
      else if (WECHAT_CALLS.test(name))
        expect([name, codes.filter((code) => typeof code === 'number')]).toEqual([name, []]);
      else expect([name, codes]).toEqual([name, expect.arrayContaining([50000, 50300])]);
    }
  });

  it('each error response is the envelope, under the status of its codes, with an example per code', () => {
    const known = new Set(Object.values(ErrorCode).filter((value) => typeof value === 'number'));
    // The probes and the routes WeChat calls answer outside the envelope, whatever they document.
    for (const [name, op] of operations().filter(
      ([name]) => !/ \/api\/v1\/health\//.test(name) && !WECHAT_CALLS.test(name),
    )) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const media = response.content?.['application/json'];
        const codes = media?.schema?.properties?.code?.enum ?? [];
        const where = `${name} ${status}`;
        expect([where, codes.length > 0]).toEqual([where, true]);
        expect([where, media?.schema?.required?.sort()]).toEqual([
          where,
          ['code', 'data', 'message', 'requestId'],
        ]);
        expect([where, response.description?.split('\n')[0]]).toEqual([where, `code ${codes.join(' / ')}`]);
        for (const code of codes) {
          expect([where, code, known.has(code), httpStatusOf(code)]).toEqual([
            where,
            code,
            true,
            Number(status),
          ]);
          const example = media?.examples?.[String(code)]?.value;
          expect([where, example?.code, typeof example?.message, typeof example?.requestId]).toEqual([
            where,
            code,
            'string',
            'string',
          ]);
        }
      }
    }
  });
});
