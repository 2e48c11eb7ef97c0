/**
 * Runs one fuzz case against the live app and judges the answer: the checks every answer must pass,
 * and, where the document and the contract fix it, the exact code the request must get.
 */
import {
  forgeJwt,
  decodeJwt,
  nowSec,
  reforge,
  SANE_REQUEST_ID,
  type Harness,
  type LoginResult,
} from '../support/app-harness.js';
import {
  fixturesIn,
  materializeBody,
  REFUSED_FRAMINGS,
  type FixtureName,
  type Framing,
  type FuzzCase,
  type Json,
  type Who,
} from './arbitraries.js';
import { matchesTemplate, queryViolations, violations, type Operation, type Violation } from './openapi.js';
import { encodeRequest, send, type RawRequest, type RawResponse } from './raw-http.js';

export const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 200);
/**
 * Answer times are taken at the client, in the same process as the server, on a machine that may
 * be busy with other work: one answer over the limit can be a garbage collection or the scheduler
 * rather than the service. Such an answer is timed four times more with the same request and the
 * median of the five is judged, so stalls do not fail the run while a request that is really slow
 * fails every time. (Three tries were too few for the largest bodies: a 760 KB body of 70,000 keys,
 * answered in 46 ms by a service of its own, took 228, 430 and 79 ms here, the collections of a
 * heap holding the test process too.) Past this hard bound a single answer fails at once: no stall
 * of a loaded machine explains a second on localhost, and timing a 5 s answer again would only cost
 * time.
 */
const RETIMES = 4;
export const HARD_TIME_LIMIT_MS = Math.max(1000, TIME_LIMIT_MS * 5);
export const MAX_ANSWER_BYTES = 8192;
/**
 * A successful page of a list (an operation taking `pageSize`) grows with the page, up to 100 items
 * of bounded size (a product with its description and nine image URLs is about 12 KB): it is held
 * to that bound instead. Its error answers keep the limit above.
 */
export const MAX_PAGE_ANSWER_BYTES = 2 * 1024 * 1024;
/** A target the HTTP parser cannot read: anything outside printable ASCII. */
const UNREADABLE_TARGET = /[^\x21-\x7e]/;
/** Headers that decide where the body ends, given twice: the parser may refuse them or not. */
const oddFraming = (req: RawRequest): boolean =>
  req.headers.filter(([k]) => /^(transfer-encoding|content-length)$/i.test(k)).length > 1;
/** Node's default limit on a request head; heads well past it must be refused, well under it read. */
const HEAD_LIMIT = 16 * 1024;

/** What must never appear in an answer: stack frames, file positions, driver and framework internals. */
const INTERNALS: RegExp[] = [
  /\bat [\w$.<>[\] ]+ \(/g,
  /\.(?:ts|js|mjs|cjs):\d+/g,
  /node_modules/g,
  /\bER_[A-Z_]+/g,
  /\bSQLITE_[A-Z_]+/g,
  /\bFST_[A-Z_]+/g,
  /QueryFailedError|EntityNotFoundError|TypeORMError|EntityPropertyNotFoundError/g,
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b/g,
  /\b(?:SELECT|INSERT|UPDATE|DELETE)\b.{1,200}\b(?:FROM|INTO|SET|WHERE)\b/g,
];

export interface Fuzz {
  h: Harness;
  port: number;
  operations: Operation[];
  user: LoginResult;
  admin: LoginResult;
  /** Ids of users that exist now (an erased one leaves). */
  knownIds: Set<string>;
  /** Every error code the document names, plus those the contract gives any route. */
  errorCodes: Set<number>;
  /** A GET the fuzz's tokens can always make, to tell whether a session still works. */
  probe?: Operation;
  stats: {
    requests: number;
    throwawayLogins: number;
    relogins: number;
    retimed: number;
    /** Answers per operation and status, to show how far the requests got. */
    statuses: Map<string, Map<number, number>>;
  };
}

export interface Outcome {
  problems: string[];
  request: RawRequest;
  response?: RawResponse;
}

/** Calls that can end the caller's own login: they get a throwaway login of their own. */
export const endsOwnSession = (op: Operation): boolean =>
  /logout|sign-?out/i.test(op.template) ||
  Object.keys(op.body?.properties ?? {}).some((k) => /refresh/i.test(k));

/** Calls that change or erase the resource in their path: they get a throwaway target. */
export const changesTarget = (op: Operation): boolean =>
  op.pathParams.length > 0 && !['GET', 'HEAD', 'OPTIONS'].includes(op.method);

const isIdParam = (name: string): boolean => /id$/i.test(name);

async function throwaway(f: Fuzz, who: Who): Promise<LoginResult> {
  f.stats.throwawayLogins++;
  // The second admin openid exists for this: its logins may be ended, the first admin's never.
  const login = who === 'admin' ? await f.h.loginAdmin(1) : await f.h.login();
  f.knownIds.add(login.user.id);
  return login;
}

// ------------------------------------------------------------------ building the request

interface AuthState {
  header: string | null;
  /** The role of a usable token, or the code a refused one must get. */
  valid?: Who;
  refusedWith?: number;
  /** The main (long-lived) login that was used, for the liveness probe. */
  main?: Who;
}

async function authFor(f: Fuzz, op: Operation, c: FuzzCase): Promise<AuthState> {
  const auth = c.auth;
  switch (auth.kind) {
    case 'principal': {
      if (endsOwnSession(op)) {
        const login = await throwaway(f, auth.who);
        return { header: login.bearer, valid: auth.who };
      }
      const login = auth.who === 'admin' ? f.admin : f.user;
      return { header: login.bearer, valid: auth.who, main: auth.who };
    }
    case 'none':
      return { header: null, refusedWith: 40100 };
    case 'header':
      return auth.valid
        ? { header: auth.value, valid: auth.valid }
        : { header: auth.value, refusedWith: 40100 };
    case 'forged': {
      const token = f.user.tokens.accessToken;
      switch (auth.how) {
        case 'tampered-signature': {
          const [head, body, sig] = token.split('.');
          const i = Math.floor(sig.length / 2);
          const swapped = `${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
          return { header: `Bearer ${head}.${body}.${swapped}`, refusedWith: 40100 };
        }
        case 'other-secret':
          return {
            header: `Bearer ${forgeJwt(decodeJwt(token), { secret: 'another-secret-that-is-long-enough-0000' })}`,
            refusedWith: 40100,
          };
        case 'alg-none':
          return { header: `Bearer ${forgeJwt(decodeJwt(token), { alg: 'none' })}`, refusedWith: 40100 };
        case 'expired':
          return {
            header: `Bearer ${reforge(f.h, token, { iat: nowSec() - 3600, exp: nowSec() - 60 })}`,
            refusedWith: 40101,
          };
        case 'other-scheme':
          return { header: `Token ${token}`, refusedWith: 40100 };
        case 'ended-login': {
          const logout = f.operations.find((o) => o.method === 'POST' && /logout/i.test(o.template));
          const login = await throwaway(f, 'user');
          if (logout) {
            const ended = await send(f.port, {
              method: 'POST',
              target: logout.template,
              headers: [
                ['Authorization', login.bearer],
                ['Content-Type', 'application/json'],
              ],
              body: Buffer.from('{}'),
            });
            if (ended.status !== 200)
              throw new Error(`could not end a throwaway login: HTTP ${ended.status} ${ended.text}`);
          }
          return {
            header: login.bearer,
            refusedWith: logout ? 40100 : undefined,
            valid: logout ? undefined : 'user',
          };
        }
      }
    }
  }
}

async function idFor(f: Fuzz, op: Operation, pick: number): Promise<string> {
  if (changesTarget(op)) return (await throwaway(f, 'user')).user.id;
  const ids = [f.user.user.id, f.admin.user.id, ...f.knownIds];
  return ids[pick % ids.length];
}

const percentEncodeAll = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

async function pathFor(f: Fuzz, op: Operation, c: FuzzCase): Promise<{ path: string; ids: string[] }> {
  const ids: string[] = [];
  const parts = [];
  for (const segment of op.template.split('/')) {
    const name = /^\{(.+)\}$/.exec(segment)?.[1];
    if (name === undefined) {
      parts.push(segment);
      continue;
    }
    const choice = c.path[name] ?? { kind: 'valid' };
    let value: string;
    if (choice.kind === 'raw') value = choice.segment;
    else {
      const id = await idFor(f, op, c.idPick);
      if (choice.kind === 'valid') value = encodeURIComponent(id);
      else {
        value = {
          upper: id.toUpperCase(),
          encoded: percentEncodeAll(id),
          'double-encoded': percentEncodeAll(percentEncodeAll(id)),
          'trailing-space': `${id}%20`,
          nul: `${id}%00`,
          truncated: id.slice(0, -1),
          extended: `${id}0`,
          'trailing-slash': `${id}/`,
        }[choice.how];
      }
    }
    if (isIdParam(name)) ids.push(value);
    parts.push(value);
  }
  return { path: parts.join('/'), ids };
}

async function fixtureValues(f: Fuzz, body: FuzzCase['body']): Promise<Map<FixtureName, string>> {
  const values = new Map<FixtureName, string>();
  const roots: Json[] =
    body.kind === 'json' ? [body.value] : body.kind === 'wide' || body.kind === 'deep' ? [body.base] : [];
  for (const name of roots.flatMap((r) => [...fixturesIn(r)])) {
    if (values.has(name)) continue;
    if (name === 'login-code') values.set(name, f.h.fake.newCode());
    if (name === 'phone-code')
      values.set(name, f.h.fake.newPhoneCode({ purePhoneNumber: '13800138000', countryCode: '86' }));
    if (name === 'refresh-token') values.set(name, (await throwaway(f, 'user')).tokens.refreshToken);
  }
  return values;
}

function chunked(body: Buffer | undefined): Buffer {
  if (!body || body.length === 0) return Buffer.from('0\r\n\r\n');
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

function frame(port: number, req: RawRequest, framing: Framing): RawRequest {
  const body = req.body ?? Buffer.alloc(0);
  const withHeaders = (extra: Array<[string, string]>, b: Buffer = body): RawRequest => ({
    ...req,
    headers: [...req.headers, ...extra],
    body: b,
  });
  const rawHead = (mutate: (head: string) => string): RawRequest => {
    const bytes = encodeRequest(port, req);
    const end = bytes.indexOf('\r\n\r\n');
    const head = bytes.subarray(0, end + 4).toString('utf8');
    return { ...req, raw: Buffer.concat([Buffer.from(mutate(head), 'utf8'), bytes.subarray(end + 4)]) };
  };
  switch (framing) {
    case 'space-in-target':
      return { ...req, target: `${req.target} x` };
    case 'control-in-target':
      return { ...req, target: `${req.target}\u0001` };
    case 'nul-in-target':
      return { ...req, target: `${req.target}\u0000` };
    case 'control-in-header-value':
      return withHeaders([['X-Fuzz', 'a\u0001b']]);
    case 'header-without-colon':
      return rawHead((head) => head.replace(/\r\n\r\n$/, '\r\nX-Fuzz-No-Colon\r\n\r\n'));
    case 'space-before-colon':
      return rawHead((head) => head.replace(/\r\n\r\n$/, '\r\nX-Fuzz : a\r\n\r\n'));
    case 'content-length-and-chunked':
      return withHeaders(
        [
          ['Content-Length', String(body.length)],
          ['Transfer-Encoding', 'chunked'],
        ],
        chunked(body),
      );
    case 'two-content-lengths':
      return withHeaders([
        ['Content-Length', String(body.length)],
        ['Content-Length', String(body.length + 1)],
      ]);
    case 'signed-content-length':
      return withHeaders([['Content-Length', `+${body.length}`]]);
    case 'bad-chunk-size':
      return withHeaders([['Transfer-Encoding', 'chunked']], Buffer.from('zz\r\nabc\r\n0\r\n\r\n'));
    case 'unknown-transfer-encoding':
      return withHeaders([['Transfer-Encoding', 'gzip']]);
    case 'bad-method':
      return { ...req, method: 'G@T' };
    case 'bad-version':
      return rawHead((head) => head.replace(/ HTTP\/1\.1\r\n/, ' HTTP/9.9\r\n'));
    case 'over-long-target':
      return {
        ...req,
        target: `${req.target}${req.target.includes('?') ? '&' : '?'}long=${'x'.repeat(40_000)}`,
      };
    case 'over-long-header':
      return withHeaders([['X-Huge', 'h'.repeat(40_000)]]);
    case 'lf-line-endings':
      return rawHead((head) => head.replace(/\r\n/g, '\n'));
    case 'folded-header':
      return rawHead((head) => head.replace(/\r\n\r\n$/, '\r\nX-Fuzz: a\r\n folded\r\n\r\n'));
    case 'absolute-form-target':
      return { ...req, target: `http://127.0.0.1:${port}${req.target}` };
  }
}

// ------------------------------------------------------------------ what the answer must be

interface Expectation {
  codes: number[];
  why: string;
  /** For 40000: the fields the errors may name (absent: any field). */
  fields?: Violation[];
}

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
/** Content types a JSON parser might fairly take or refuse: not judged. */
const MAYBE_JSON = /json/i;

const tryParse = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text.replace(/^\uFEFF/, '')) };
  } catch {
    return { ok: false };
  }
};

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface Built {
  req: RawRequest;
  path: string;
  ids: string[];
  query: string;
  contentType: string | null;
  bodyText?: string;
  auth: AuthState;
  headBytes: number;
}

function expectationFor(f: Fuzz, op: Operation, c: FuzzCase, b: Built): Expectation | undefined {
  if (c.framing) {
    const codes = REFUSED_FRAMINGS.get(c.framing);
    return (
      codes && { codes, why: `the HTTP parser must refuse a request with ${c.framing}, in the envelope` }
    );
  }
  if (b.headBytes > 2 * HEAD_LIMIT) return { codes: [43100], why: `its head is ${b.headBytes} bytes` };
  if (b.headBytes > HEAD_LIMIT / 2 || oddFraming(b.req)) return undefined;
  // Raw bytes outside printable ASCII in a target are for the parser to refuse, whatever else is wrong.
  if (UNREADABLE_TARGET.test(b.req.target)) {
    return { codes: [40000], why: 'its target holds characters a URL cannot hold unencoded' };
  }
  // What WeChat's own routes answer past the parser is theirs to shape (foreignProblems).
  if (op.foreign) return undefined;
  const others = f.operations.filter((o) => o !== op && matchesTemplate(o.template, b.path));
  if (others.some((o) => !/\{/.test(o.template))) return undefined; // an id like `me` names another route
  if (!matchesTemplate(op.template, b.path)) {
    if (others.length > 0 || b.ids.some((id) => id === '' || /%2f/i.test(id))) return undefined;
    return { codes: [40400], why: `${b.path} is no route of the document` };
  }
  const hasBody = b.bodyText !== undefined && b.bodyText.length > 0;
  let parsed: unknown = {};
  if (op.body && hasBody) {
    if (b.contentType === null || !JSON_TYPE.test(b.contentType)) {
      if (b.contentType !== null && MAYBE_JSON.test(b.contentType)) return undefined;
      return {
        codes: [40000],
        why: `a body sent as ${b.contentType ?? 'no content type'} (bodies are JSON)`,
      };
    }
    const result = tryParse(b.bodyText as string);
    if (!result.ok) return { codes: [40000], why: 'the body is not JSON' };
    parsed = result.value;
  } else if (op.body && b.bodyText === '') {
    return undefined;
  }
  if (op.secured) {
    if (b.auth.refusedWith !== undefined)
      return {
        codes: [b.auth.refusedWith],
        why: `its Authorization is ${c.auth.kind === 'forged' ? c.auth.how : JSON.stringify(b.auth.header?.slice(0, 40) ?? null)}`,
      };
    if (op.adminOnly && b.auth.valid === 'user')
      return { codes: [40300], why: "a user's valid token on an admin route" };
  }
  const broken = [
    ...(op.body ? violations(op.body, parsed) : []),
    ...queryViolations(op.queryParams, b.query),
  ];
  const unknownId = b.ids.find((id) => !f.knownIds.has(decodeSegment(id)));
  if (broken.length > 0) {
    const why = `the document refuses it: ${broken.map((v) => `${v.field} ${v.reason}`).join('; ')}`;
    return { codes: unknownId === undefined ? [40000] : [40000, 40400], why, fields: broken };
  }
  if (unknownId !== undefined)
    return {
      codes: [40400],
      why: `the id ${JSON.stringify(unknownId.slice(0, 60))} names nothing that exists`,
    };
  if (op.probe) return { codes: [0], why: 'a probe answers 2xx while its dependencies are up' };
  return undefined;
}

// ------------------------------------------------------------------ the checks on every answer

function checkAnswer(
  f: Fuzz,
  op: Operation,
  c: FuzzCase,
  b: Built,
  res: RawResponse,
  expected?: Expectation,
): string[] {
  const problems: string[] = [];
  const { status } = res;
  const documented3xx = status >= 300 && status < 400 && op.documented.includes(status);
  if (!((status >= 200 && status < 300) || (status >= 400 && status < 500) || documented3xx)) {
    problems.push(`HTTP ${status}: only 2xx and 4xx answers are allowed`);
  }
  const isPage = status >= 200 && status < 300 && op.queryParams.some((p) => p.name === 'pageSize');
  const maxBytes = isPage ? MAX_PAGE_ANSWER_BYTES : MAX_ANSWER_BYTES;
  if (res.body.length >= maxBytes)
    problems.push(`the answer is ${res.body.length} bytes (limit ${maxBytes})`);

  const requestText = `${b.req.target}\n${b.req.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${b.bodyText ?? ''}`;
  for (const pattern of INTERNALS) {
    for (const match of res.text.matchAll(pattern)) {
      if (!requestText.includes(match[0])) {
        problems.push(`the answer shows an internal detail: ${JSON.stringify(match[0])}`);
        break;
      }
    }
  }

  let code: number | undefined;
  const foreign = op.foreign && !looksEnveloped(res);
  if (foreign) problems.push(...foreignProblems(res));
  const enveloped = !foreign && (status >= 400 || op.enveloped);
  if (enveloped) {
    const type = res.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type))
      problems.push(`Content-Type ${JSON.stringify(type || null)}, not application/json`);
    const parsed = tryParse(res.text);
    const body = parsed.ok ? (parsed.value as Record<string, unknown>) : undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      problems.push('the body is not a JSON object (no envelope)');
    } else {
      const keys = Object.keys(body).sort().join(',');
      if (keys !== 'code,data,message,requestId')
        problems.push(`envelope keys are [${keys}], not exactly code, data, message, requestId`);
      if (typeof body.code !== 'number' || !Number.isInteger(body.code))
        problems.push(`code ${JSON.stringify(body.code)} is not an integer`);
      else {
        code = body.code;
        if (status < 300 && code !== 0) problems.push(`HTTP ${status} with code ${code} (success is code 0)`);
        if (status >= 300 && (code < 10000 || code > 99999 || Math.floor(code / 100) !== status)) {
          problems.push(`code ${code} does not start with the HTTP status ${status}`);
        }
        if (status >= 400 && !f.errorCodes.has(code))
          problems.push(`code ${code} is named nowhere in the document`);
      }
      if (typeof body.message !== 'string' || (status >= 400 && body.message === ''))
        problems.push('message is not a non-empty string');
      const requestId = body.requestId;
      if (typeof requestId !== 'string' || !SANE_REQUEST_ID.test(requestId))
        problems.push(`requestId ${JSON.stringify(requestId)} is not a sane id`);
      else {
        if (res.headers['x-request-id'] !== requestId)
          problems.push(
            `X-Request-Id header ${JSON.stringify(res.headers['x-request-id'] ?? null)} differs from requestId ${requestId}`,
          );
        const sent = b.req.headers.filter(([k]) => k.toLowerCase() === 'x-request-id').map(([, v]) => v);
        // A refused head was never read, so there is no id to echo.
        const unread =
          c.framing !== null ||
          b.headBytes > HEAD_LIMIT / 2 ||
          UNREADABLE_TARGET.test(b.req.target) ||
          oddFraming(b.req);
        if (sent.length === 1 && !unread) {
          if (SANE_REQUEST_ID.test(sent[0]) && requestId !== sent[0])
            problems.push(`the sane X-Request-Id ${sent[0]} was not echoed (got ${requestId})`);
          if (!SANE_REQUEST_ID.test(sent[0]) && requestId === sent[0])
            problems.push('an insane X-Request-Id was echoed');
        }
      }
      if (code === 40000) {
        const errors = (body.data as { errors?: unknown } | null)?.errors;
        if (!Array.isArray(errors) || errors.length === 0)
          problems.push('40000 without a non-empty data.errors array');
        else {
          const bad = errors.find(
            (e) =>
              !e ||
              typeof e !== 'object' ||
              Object.keys(e).sort().join(',') !== 'field,message' ||
              typeof (e as Record<string, unknown>).field !== 'string' ||
              typeof (e as Record<string, unknown>).message !== 'string' ||
              (e as Record<string, unknown>).message === '',
          );
          if (bad !== undefined)
            problems.push(`data.errors holds ${JSON.stringify(bad)?.slice(0, 200)}, not {field, message}`);
          else if (expected?.fields && expected.codes.includes(40000)) {
            const named = (errors as Array<{ field: string }>).map((e) => e.field);
            // The service cuts long field names in its answer (`xxxx…`): a cut name names its prefix.
            const related = (a: string, v: string): boolean =>
              a.endsWith('…')
                ? v.startsWith(a.slice(0, -1))
                : a === v || v.startsWith(`${a}.`) || a.startsWith(`${v}.`);
            // A body that is wrong as a whole (an array, a scalar) may be described by its consequences.
            const whole = expected.fields.some((v) => v.field === 'body');
            // A property named like one every object inherits (`toString`, `__proto__`) is refused
            // before the DTO's own rules, so it may be the one named.
            const inherited = (n: string) => n === '__proto__' || n === 'prototype' || n in Object.prototype;
            const fits =
              whole ||
              named.some(inherited) ||
              named.some(
                (n) => n === 'body' || n === 'query' || expected.fields?.some((v) => related(n, v.field)),
              );
            if (!fits) {
              problems.push(
                `data.errors names ${JSON.stringify(named)}, none of what is wrong: ${expected.fields.map((v) => v.field).join(', ')}`,
              );
            }
          }
        }
      }
    }
  }

  if (expected) {
    const got = enveloped ? code : status < 300 ? 0 : status;
    const ok = expected.codes.includes(0)
      ? status >= 200 && status < 300
      : got !== undefined && expected.codes.includes(got);
    if (!ok)
      problems.push(
        `expected ${expected.codes.map((x) => (x === 0 ? '2xx' : x)).join(' or ')} because ${expected.why}; got HTTP ${status}${code === undefined ? '' : ` / ${code}`}`,
      );
  }
  return problems;
}

/** An answer of the service's own envelope (the parser's refusals, unknown routes). */
function looksEnveloped(res: RawResponse): boolean {
  const parsed = tryParse(res.text);
  return parsed.ok && typeof (parsed.value as { code?: unknown } | null)?.code === 'number';
}

/**
 * The shapes WeChat reads: nothing (204), WeChat Pay's `{"code":"FAIL","message"}`, or the
 * callback's plain text or XML.
 */
function foreignProblems(res: RawResponse): string[] {
  if (res.body.length === 0) return [];
  const type = res.headers['content-type'] ?? '';
  if (/^application\/json\b/i.test(type)) {
    const parsed = tryParse(res.text);
    const body = parsed.ok ? (parsed.value as Record<string, unknown> | null) : null;
    const fail =
      body !== null &&
      typeof body === 'object' &&
      Object.keys(body).sort().join(',') === 'code,message' &&
      body.code === 'FAIL' &&
      typeof body.message === 'string' &&
      body.message !== '';
    return fail ? [] : [`a JSON answer that is not {"code":"FAIL","message"}: ${res.text.slice(0, 120)}`];
  }
  if (/^text\/(plain|xml)\b/i.test(type)) return [];
  return [`Content-Type ${JSON.stringify(type || null)} on a route WeChat reads`];
}

// ------------------------------------------------------------------ one case

export async function runCase(f: Fuzz, op: Operation, c: FuzzCase): Promise<Outcome> {
  const auth = await authFor(f, op, c);
  const { path, ids } = await pathFor(f, op, c);
  const fixtures = await fixtureValues(f, c.body);
  const bodyText = materializeBody(c.body, fixtures);
  const contentType =
    c.contentType === 'default' ? (bodyText !== undefined ? 'application/json' : null) : c.contentType;
  const headers: Array<[string, string]> = [];
  if (auth.header !== null) headers.push(['Authorization', auth.header]);
  if (contentType !== null) headers.push(['Content-Type', contentType]);
  if (c.requestId !== null) headers.push(['X-Request-Id', c.requestId]);
  headers.push(...c.headers);
  let body: Buffer | undefined = bodyText === undefined ? undefined : Buffer.from(bodyText, 'utf8');
  if (headers.some(([k, v]) => k.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v)))
    body = chunked(body);
  let req: RawRequest = { method: op.method, target: c.query ? `${path}?${c.query}` : path, headers, body };
  if (c.framing) req = frame(f.port, req, c.framing);
  const bytes = encodeRequest(f.port, req);
  const headBytes = bytes.indexOf('\r\n\r\n') < 0 ? bytes.length : bytes.indexOf('\r\n\r\n');
  const built: Built = { req, path, ids, query: c.query, contentType, bodyText, auth, headBytes };
  const expected = expectationFor(f, op, c, built);

  f.stats.requests++;
  let res: RawResponse;
  try {
    res = await send(f.port, req);
  } catch (error) {
    return { problems: [`no answer: ${(error as Error).message}`], request: req };
  }
  const counts = f.stats.statuses.get(op.name) ?? new Map<number, number>();
  counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
  f.stats.statuses.set(op.name, counts);
  const problems = checkAnswer(f, op, c, built, res, expected);

  if (res.ms > TIME_LIMIT_MS) {
    if (res.ms > HARD_TIME_LIMIT_MS)
      problems.push(`answered in ${res.ms.toFixed(0)} ms (limit ${TIME_LIMIT_MS} ms)`);
    else {
      f.stats.retimed++;
      const times = [res.ms];
      for (let i = 0; i < RETIMES; i++)
        times.push(
          await send(f.port, req).then(
            (r) => r.ms,
            () => HARD_TIME_LIMIT_MS,
          ),
        );
      const median = [...times].sort((a, b) => a - b)[RETIMES / 2];
      if (median > TIME_LIMIT_MS) {
        problems.push(
          `answered in a median ${median.toFixed(0)} ms over ${times.length} tries (${times.map((t) => t.toFixed(0)).join(', ')}; limit ${TIME_LIMIT_MS} ms)`,
        );
      }
    }
  }

  await learn(f, op, ids, res);
  if (auth.main && (res.status === 401 || res.status === 403)) {
    const dead = await sessionEnded(f, auth.main);
    if (dead)
      problems.push(
        `the fuzz's own ${auth.main} login stopped working after this request (${dead}); a refused request must change nothing`,
      );
  }
  return { problems, request: req, response: res };
}

/** Keeps the registry of existing users current: new logins, erasures. */
async function learn(f: Fuzz, op: Operation, ids: string[], res: RawResponse): Promise<void> {
  if (res.status !== 200) return;
  const data = (tryParse(res.text) as { ok: boolean; value?: { data?: { user?: { id?: unknown } } } }).value
    ?.data;
  if (typeof data?.user?.id === 'string') f.knownIds.add(data.user.id);
  if (op.method === 'DELETE') for (const id of ids) f.knownIds.delete(decodeSegment(id));
}

/** undefined while the login works; otherwise what the probe got, after logging in again. */
async function sessionEnded(f: Fuzz, who: Who): Promise<string | undefined> {
  if (!f.probe) return undefined;
  const login = who === 'admin' ? f.admin : f.user;
  const res = await send(f.port, {
    method: 'GET',
    target: f.probe.template,
    headers: [['Authorization', login.bearer]],
  });
  if (res.status === 200) return undefined;
  f.stats.relogins++;
  const again = async (): Promise<LoginResult> => {
    try {
      return who === 'admin' ? await f.h.loginAdmin(0) : await f.h.login(login.openid);
    } catch {
      // Disabled or erased for good: carry on with a new one so the rest of the run still means something.
      return who === 'admin' ? await f.h.loginAdmin(1) : await f.h.login();
    }
  };
  const fresh = await again();
  f.knownIds.add(fresh.user.id);
  if (who === 'admin') f.admin = fresh;
  else f.user = fresh;
  return `${f.probe.name} then answered HTTP ${res.status} ${res.text.slice(0, 120)}`;
}

// ------------------------------------------------------------------ reporting

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
const visible = (s: string): string => JSON.stringify(s).slice(1, -1);

export function describeRequest(req: RawRequest): string {
  if (req.raw) return `raw bytes: ${clip(visible(req.raw.toString('utf8')), 800)}`;
  const lines = [`${req.method} ${clip(visible(req.target), 400)}`];
  for (const [k, v] of req.headers) lines.push(`  ${k}: ${clip(visible(v), 200)}`);
  if (req.body)
    lines.push(`  body (${req.body.length} bytes): ${clip(visible(req.body.toString('utf8')), 600)}`);
  return lines.join('\n');
}

export function describeResponse(res: RawResponse): string {
  return `HTTP ${res.status} in ${res.ms.toFixed(0)} ms, Content-Type ${res.headers['content-type'] ?? '(none)'}, ${res.body.length} bytes: ${clip(visible(res.text), 600)}`;
}

export function describeOutcome(o: Outcome): string {
  return [
    ...o.problems.map((p) => `- ${p}`),
    'request:',
    describeRequest(o.request),
    'answer:',
    o.response ? describeResponse(o.response) : '(none)',
  ].join('\n');
}
