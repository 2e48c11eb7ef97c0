/**
 * What the fuzz sends, as fast-check arbitraries built from an operation of the OpenAPI document:
 * requests that follow its schemas (so they reach the handlers), and requests pushed away from
 * them in one direction at a time (a family), so that a failure says which kind of input did it.
 *
 * A generated case is a small recipe (sizes, choices, a few strings), not the bytes: a body of
 * 5,000 keys is `{kind: 'wide', n: 5000}`, which shrinks to the smallest n that still fails and
 * prints in one line. The recipe becomes a request only when run, because valid tokens, ids and
 * WeChat codes exist only then.
 */
import fc from 'fast-check';
import { SANE_REQUEST_ID } from '../support/app-harness.js';
import type { Operation, Schema } from './openapi.js';

// ------------------------------------------------------------------ JSON with hostile leaves

/** A JSON fragment written exactly as given (`1e400`, duplicate keys, a `__proto__` key). */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `raw(${this.text.length > 80 ? `${this.text.slice(0, 80)}…` : this.text})`;
  }
}

/** A value that exists only at run time: a fresh WeChat code, a live refresh token. */
export type FixtureName = 'login-code' | 'phone-code' | 'refresh-token';
export class Fixture {
  constructor(readonly name: FixtureName) {}
  toJSON(): string {
    return `<${this.name}>`;
  }
}

/** An object as an ordered list of entries: keys may repeat or be `__proto__`. */
export class Entries {
  constructor(readonly entries: Array<[string, Json]>) {}
  toJSON(): Record<string, Json> {
    return Object.fromEntries(this.entries);
  }
}

export type Json =
  null | boolean | number | string | RawJson | Fixture | Entries | Json[] | { [key: string]: Json };

export function serialize(value: Json, fixtures: ReadonlyMap<FixtureName, string>): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Fixture) return JSON.stringify(fixtures.get(value.name) ?? '');
  if (value instanceof Entries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v, fixtures)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v, fixtures)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return serialize(new Entries(Object.entries(value)), fixtures);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

export function fixturesIn(value: Json, out = new Set<FixtureName>()): Set<FixtureName> {
  if (value instanceof Fixture) out.add(value.name);
  else if (value instanceof Entries) for (const [, v] of value.entries) fixturesIn(v, out);
  else if (Array.isArray(value)) for (const v of value) fixturesIn(v, out);
  else if (value !== null && typeof value === 'object' && !(value instanceof RawJson)) {
    for (const v of Object.values(value)) fixturesIn(v, out);
  }
  return out;
}

// ------------------------------------------------------------------ request recipes

export type BodyRecipe =
  | { kind: 'none' }
  | { kind: 'json'; value: Json }
  | { kind: 'text'; text: string }
  /** `base` plus `n` more keys at the top, or one field holding `n` items or keys. */
  | { kind: 'wide'; base: Json; n: number; where: 'top' | 'array-field' | 'object-field'; field: string }
  /** Arrays or objects nested `depth` levels, as the whole body or as one field. */
  | { kind: 'deep'; base: Json; depth: number; shape: 'array' | 'object'; field: string | null };

export function materializeBody(
  body: BodyRecipe,
  fixtures: ReadonlyMap<FixtureName, string>,
): string | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'json':
      return serialize(body.value, fixtures);
    case 'text':
      return body.text;
    case 'wide': {
      const base = entriesOf(body.base);
      if (body.where === 'top') {
        const extra: Array<[string, Json]> = Array.from({ length: body.n }, (_, i) => [
          `k${i}`,
          i % 2 ? 'v' : 0,
        ]);
        return serialize(new Entries([...base, ...extra]), fixtures);
      }
      const filler =
        body.where === 'array-field'
          ? new RawJson(`[${Array.from({ length: body.n }, () => '0').join(',')}]`)
          : new RawJson(`{${Array.from({ length: body.n }, (_, i) => `"k${i}":0`).join(',')}}`);
      return serialize(
        new Entries([...base.filter(([k]) => k !== body.field), [body.field, filler]]),
        fixtures,
      );
    }
    case 'deep': {
      const nested =
        body.shape === 'array'
          ? `${'['.repeat(body.depth)}${']'.repeat(body.depth)}`
          : `${'{"a":'.repeat(body.depth)}1${'}'.repeat(body.depth)}`;
      if (body.field === null) return nested;
      const base = entriesOf(body.base).filter(([k]) => k !== body.field);
      return serialize(new Entries([...base, [body.field, new RawJson(nested)]]), fixtures);
    }
  }
}

function entriesOf(value: Json): Array<[string, Json]> {
  if (value instanceof Entries) return [...value.entries];
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof RawJson) &&
    !(value instanceof Fixture)
  ) {
    return Object.entries(value);
  }
  return [];
}

export type Who = 'user' | 'admin';

export type AuthChoice =
  /** A live token of the fuzz's user or admin (a throwaway login where the call could end it). */
  | { kind: 'principal'; who: Who }
  | { kind: 'none' }
  /** An Authorization header; `valid` when it still carries a usable token (a lower-case scheme). */
  | { kind: 'header'; value: string; valid?: Who }
  /** A real token, changed: the expected code is fixed by the change. */
  | {
      kind: 'forged';
      how: 'tampered-signature' | 'other-secret' | 'alg-none' | 'expired' | 'ended-login' | 'other-scheme';
    };

export type PathChoice =
  | { kind: 'valid' }
  /** A change of a valid id. */
  | {
      kind: 'variant';
      how:
        | 'upper'
        | 'encoded'
        | 'double-encoded'
        | 'trailing-space'
        | 'nul'
        | 'truncated'
        | 'extended'
        | 'trailing-slash';
    }
  /** Sent as is (already percent-encoded, or deliberately not). */
  | { kind: 'raw'; segment: string };

/** Request framing the HTTP parser should refuse, or odd framing it may take. */
export type Framing =
  | 'space-in-target'
  | 'control-in-target'
  | 'nul-in-target'
  | 'control-in-header-value'
  | 'header-without-colon'
  | 'space-before-colon'
  | 'content-length-and-chunked'
  | 'two-content-lengths'
  | 'signed-content-length'
  | 'bad-chunk-size'
  | 'unknown-transfer-encoding'
  | 'bad-method'
  | 'bad-version'
  | 'over-long-target'
  | 'over-long-header'
  | 'lf-line-endings'
  | 'folded-header'
  | 'absolute-form-target';

/** Framings the parser must refuse: answered 400 / 40000, or 431 / 43100 for the over-long ones. */
export const REFUSED_FRAMINGS: ReadonlyMap<Framing, number[]> = new Map<Framing, number[]>([
  ['space-in-target', [40000]],
  ['control-in-target', [40000]],
  ['nul-in-target', [40000]],
  ['control-in-header-value', [40000]],
  ['header-without-colon', [40000]],
  ['space-before-colon', [40000]],
  ['content-length-and-chunked', [40000]],
  ['two-content-lengths', [40000]],
  ['signed-content-length', [40000]],
  ['bad-chunk-size', [40000]],
  ['unknown-transfer-encoding', [40000]],
  ['bad-method', [40000, 40400]],
  ['bad-version', [40000]],
  ['over-long-target', [43100, 40000]],
  ['over-long-header', [43100]],
]);

export type Family =
  | 'valid'
  | 'field-types'
  | 'missing-extra'
  | 'wide'
  | 'deep'
  | 'top-level'
  | 'content-type'
  | 'query'
  | 'path'
  | 'headers'
  | 'auth'
  | 'framing';

export interface FuzzCase {
  family: Family;
  auth: AuthChoice;
  path: Record<string, PathChoice>;
  /** Which existing id a valid path parameter names, when there is a choice. */
  idPick: number;
  /** Raw, without `?`. */
  query: string;
  /** `default`: application/json when a body is sent; null: no Content-Type header. */
  contentType: string | null | 'default';
  body: BodyRecipe;
  requestId: string | null;
  headers: Array<[string, string]>;
  framing: Framing | null;
}

export function familiesOf(op: Operation): Family[] {
  const families: Family[] = ['valid', 'query', 'headers', 'framing'];
  if (op.body) families.push('field-types', 'missing-extra', 'wide', 'deep', 'top-level', 'content-type');
  if (op.pathParams.length > 0) families.push('path');
  if (op.secured) families.push('auth');
  return families;
}

// ------------------------------------------------------------------ values from a schema

const typesOf = (schema: Schema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Values the schema allows (the document's words about base64 included). */
export function validValue(schema: Schema, fixture?: FixtureName, depth = 0): fc.Arbitrary<Json> {
  const plain = validNonNull(schema, depth);
  const withFixture = fixture
    ? fc.oneof({ arbitrary: fc.constant<Json>(new Fixture(fixture)), weight: 3 }, plain)
    : plain;
  return schema.nullable
    ? fc.oneof({ arbitrary: withFixture, weight: 4 }, fc.constant<Json>(null))
    : withFixture;
}

function validNonNull(schema: Schema, depth: number): fc.Arbitrary<Json> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...(schema.enum as Json[]));
  if (schema.allOf?.length)
    return validNonNull(Object.assign({}, ...schema.allOf, { allOf: undefined }) as Schema, depth);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches?.length) return fc.oneof(...branches.map((s) => validNonNull(s, depth)));
  const type = typesOf(schema).find((t) => t !== 'null') ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: bound(schema.minimum, -1000), max: bound(schema.maximum, 1000) });
    case 'number':
      return fc.oneof(
        fc.integer({ min: bound(schema.minimum, -1000), max: bound(schema.maximum, 1000) }),
        fc.double({ min: bound(schema.minimum, -1000), max: bound(schema.maximum, 1000), noNaN: true }),
      );
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(schema.items ?? {}, undefined, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, sub] of Object.entries(properties)) {
        record[key] = depth > 4 ? fc.constant<Json>(null) : validValue(sub, undefined, depth + 1);
      }
      return fc.record(record, {
        requiredKeys: [...required].filter((k) => k in record),
      }) as fc.Arbitrary<Json>;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

const bound = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) ? fallback : value;

function base64Bytes(schema: Schema): number | undefined {
  const words = `${schema.format ?? ''} ${schema.description ?? ''}`;
  const n = /\bbase64 of (\d+) bytes\b/i.exec(words)?.[1];
  return n === undefined ? undefined : Number(n);
}
const isBase64 = (schema: Schema): boolean =>
  schema.format === 'byte' || /\bbase64\b/i.test(`${schema.format ?? ''} ${schema.description ?? ''}`);

function validString(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Math.max(min, 40);
  const fits = (s: string): boolean => [...s].length >= min && [...s].length <= max;
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  const bytes = base64Bytes(schema);
  if (bytes !== undefined) return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map(b64);
  if (isBase64(schema)) {
    const maxBytes = Math.max(1, Math.min(96, Math.floor((max * 3) / 4)));
    return fc.uint8Array({ minLength: 1, maxLength: maxBytes }).map(b64).filter(fits);
  }
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'uri' || schema.format === 'url' || /^https?:/.test(String(schema.example ?? ''))) {
    return fc
      .oneof(fc.webUrl(), fc.string({ minLength: min, maxLength: Math.min(max, min + 30) }))
      .filter(fits);
  }
  const upTo = Math.min(max, min + 30);
  return fc.oneof(
    { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: upTo }), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: upTo }), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: upTo }).filter(fits), weight: 1 },
  );
}

/** The body an operation takes, valid by its schema (fixtures where a live value helps). */
export function validBody(op: Operation): fc.Arbitrary<Json> {
  const schema = op.body ?? {};
  if (!schema.properties) return validValue(schema);
  const record: Record<string, fc.Arbitrary<Json>> = {};
  for (const [key, sub] of Object.entries(schema.properties))
    record[key] = validValue(sub, fixtureFor(op, key));
  const required = (schema.required ?? []).filter((k) => k in record);
  return fc.record(record, { requiredKeys: required }) as fc.Arbitrary<Json>;
}

/**
 * Live values for properties whose random values the service could only refuse: the happy path
 * needs a real WeChat code or refresh token. Operations not listed get schema values only.
 */
function fixtureFor(op: Operation, property: string): FixtureName | undefined {
  if (property === 'refreshToken') return 'refresh-token';
  if (property === 'code' && /phone/i.test(op.template)) return 'phone-code';
  if (property === 'code' && /login/i.test(op.template)) return 'login-code';
  return undefined;
}

// ------------------------------------------------------------------ hostile values

const longString = fc
  .tuple(
    fc.constantFrom(1000, 4096, 10_000, 70_000),
    fc.constantFrom('x', 'é', '😀', '\u0000', ' ', '%', '\\', '"', 'a\u0301'),
  )
  .map(([n, c]) => c.repeat(n));

/** One of every JSON type, the edge numbers, and strings that look like something else. */
export const hostileScalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1,
    2,
    3,
    1.5,
    -0.5,
    2 ** 31,
    -(2 ** 31) - 1,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    new RawJson('-0'),
    new RawJson('1e3'),
    new RawJson('1E+2'),
    new RawJson('0.1e1'),
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1e-400'),
    new RawJson('9007199254740993'),
    new RawJson('123456789012345678901234567890'),
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '-0',
    '0',
    '1',
    '2',
    '1e3',
    '0x10',
    '+5',
    '05',
    '1.0',
    'true',
    'false',
    'null',
    'undefined',
    'active',
    'admin',
    'user',
    '[]',
    '{}',
    '__proto__',
    "' OR '1'='1",
    '%00',
    '%zz',
    '\u0000',
    'a\u0000b',
    '\u0001\u0002\u001f\u007f',
    '\r\n',
    '\t',
    '😀',
    '\u202eevil',
    '\ud800',
    '\udfff\ud800',
    '\uffff\ufffe',
    'e\u0301',
    '\u200b',
    '１２３',
    '٣',
    '<script>alert(1)</script>',
    '../../../etc/passwd',
    '${7*7}',
    'http://127.0.0.1:1/',
    'javascript:alert(1)',
    'AAAAAAAAAAAAAAAAAAAAAAAA',
    'AAAAAAAAAAAAAAAAAAAAAA==',
    'AAAAAAAAAAAAAAAAAAAAAAA=',
    '////////////////////////',
    '=======================',
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => new RawJson(n.toString())),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  longString,
);

/** Structured values where scalars are expected (and the other way round). */
export const hostileStructure: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    [],
    [null],
    [1, 2, 3],
    ['a'],
    [[[]]],
    {},
    { a: 1 },
    { $ne: null },
    { $gt: '' },
    new RawJson('{"__proto__":{"role":"admin"}}'),
    new RawJson('{"constructor":{"prototype":{"role":"admin"}}}'),
    new RawJson('{"toString":1,"valueOf":2}'),
  ),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.array(hostileScalar, { maxLength: 5 }),
);

export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: hostileScalar, weight: 3 },
  { arbitrary: hostileStructure, weight: 1 },
);

/** Strings just inside and just outside a string schema's bounds, in its own alphabet. */
function boundaryStrings(schema: Schema): fc.Arbitrary<Json> | undefined {
  if (!typesOf(schema).includes('string')) return undefined;
  const lengths = new Set<number>();
  for (const n of [schema.minLength, schema.maxLength]) {
    if (n === undefined) continue;
    for (const d of [-1, 0, 1]) if (n + d >= 0 && n + d <= 200_000) lengths.add(n + d);
  }
  if (lengths.size === 0) return undefined;
  const alphabet = isBase64(schema)
    ? fc.constantFrom('A', 'Q', 'z', '0', '+', '/', '=')
    : fc.constantFrom('a', 'é', '😀', ' ', '\u0000', 'e\u0301');
  return fc
    .tuple(fc.constantFrom(...lengths), alphabet, fc.boolean())
    .map(([n, c, padded]) => (isBase64(schema) && padded && n >= 2 ? `${'A'.repeat(n - 2)}==` : c.repeat(n)));
}

// ------------------------------------------------------------------ names

const odd = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'role',
  'status',
  'isAdmin',
  'id',
  'userId',
  'openid',
  'sessionKey',
  '',
  ' ',
  'a.b',
  'a[b]',
  '$where',
  '0',
  '-1',
  'null',
  '😀',
  '\u0000',
  'x'.repeat(5000),
);
export const extraKey: fc.Arbitrary<string> = fc.oneof(
  odd,
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
);

// ------------------------------------------------------------------ auth, headers, ids, queries

const junkToken = fc.oneof(
  fc.constantFrom('x', 'x'.repeat(5000), '..', 'a.b.c', 'null', 'undefined', 'eyJhbGciOiJub25lIn0..', '😀'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{0,60}$/),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 300 }).filter((s) => !/[\r\n]/.test(s)),
);

/** A usable token of the right role for secured routes; mostly none where none is needed. */
function authArbitrary(op: Operation): fc.Arbitrary<AuthChoice> {
  const admin = fc.constant<AuthChoice>({ kind: 'principal', who: 'admin' });
  const user = fc.constant<AuthChoice>({ kind: 'principal', who: 'user' });
  if (!op.secured) return fc.oneof({ arbitrary: fc.constant<AuthChoice>({ kind: 'none' }), weight: 3 }, user);
  return op.adminOnly ? admin : fc.oneof({ arbitrary: user, weight: 3 }, admin);
}

const authHostile: fc.Arbitrary<AuthChoice> = fc.oneof(
  fc.constant<AuthChoice>({ kind: 'none' }),
  fc.constantFrom<AuthChoice>(
    { kind: 'header', value: '' },
    { kind: 'header', value: 'Bearer' },
    { kind: 'header', value: 'Bearer ' },
    { kind: 'header', value: 'Basic dXNlcjpwYXNz' },
    { kind: 'header', value: 'Bearer null' },
    { kind: 'forged', how: 'tampered-signature' },
    { kind: 'forged', how: 'other-secret' },
    { kind: 'forged', how: 'alg-none' },
    { kind: 'forged', how: 'expired' },
    { kind: 'forged', how: 'ended-login' },
    { kind: 'forged', how: 'other-scheme' },
  ),
  // The user's valid token where an admin is needed: the role check, not the token check.
  { arbitrary: fc.constant<AuthChoice>({ kind: 'principal', who: 'user' }), weight: 2 },
  junkToken.map<AuthChoice>((junk) => ({ kind: 'header', value: `Bearer ${junk}` })),
  junkToken.map<AuthChoice>((junk) => ({ kind: 'header', value: junk })),
);

const saneRequestId = fc.stringMatching(SANE_REQUEST_ID);
const oddRequestId = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'has spaces',
    'a/b',
    'é',
    '😀',
    '\t',
    'x'.repeat(129),
    'y'.repeat(200),
    'z'.repeat(10_000),
    'a,b',
    '"quoted"',
    '<id>',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
);

const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, string]>(
      ['Accept', 'text/html'],
      ['Accept', 'application/xml'],
      ['Accept', '*/*;q=0'],
      ['Accept-Encoding', 'gzip, deflate, br'],
      ['Accept-Charset', 'latin1'],
      ['X-Forwarded-For', 'not-an-ip, 999.1.1.1, ::1'],
      ['X-Forwarded-Proto', 'gopher'],
      ['Origin', 'https://evil.example'],
      ['Forwarded', 'for="_gazonk"'],
      ['Cookie', 'a=b; wxb_oauth=x'],
      ['Range', 'bytes=0-1'],
      ['If-None-Match', '*'],
      ['X-HTTP-Method-Override', 'DELETE'],
      ['Content-Encoding', 'gzip'],
      ['Content-Language', 'x'],
      ['Expect', '100-continue'],
      ['Transfer-Encoding', 'chunked'],
    ),
    fc.tuple(
      fc.stringMatching(/^X-[A-Za-z0-9-]{1,30}$/),
      fc.string({ unit: 'grapheme-ascii', maxLength: 100 }).map((s) => s.replace(/[\r\n]/g, '')),
    ),
    fc.constantFrom<[string, string]>(
      ['X-Request-Id', 'dup-a'],
      ['X-Request-Id', 'dup-b'],
      ['Authorization', 'Bearer dup'],
    ),
  ),
  { maxLength: 4 },
);

const oddSegment: fc.Arbitrary<PathChoice> = fc.oneof(
  fc.constantFrom<PathChoice>(
    { kind: 'variant', how: 'upper' },
    { kind: 'variant', how: 'encoded' },
    { kind: 'variant', how: 'double-encoded' },
    { kind: 'variant', how: 'trailing-space' },
    { kind: 'variant', how: 'nul' },
    { kind: 'variant', how: 'truncated' },
    { kind: 'variant', how: 'extended' },
    { kind: 'variant', how: 'trailing-slash' },
  ),
  fc
    .constantFrom(
      '0',
      '-1',
      '1e3',
      '0x10',
      'null',
      'undefined',
      'me',
      '%00',
      '%zz',
      '%E0%A4%A',
      '..',
      '.',
      '%2e%2e',
      '%2F',
      'a%2Fb',
      '%u0041',
      '%20',
      '%F0%9F%98%80',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '*',
      '%2A',
      "'%20OR%201=1",
      'x'.repeat(100),
      'x'.repeat(2049),
      'x'.repeat(5000),
    )
    .map<PathChoice>((segment) => ({ kind: 'raw', segment })),
  fc.uuid().map<PathChoice>((segment) => ({ kind: 'raw', segment })),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 40 })
    .map<PathChoice>((s) => ({ kind: 'raw', segment: encodeURIComponent(s) })),
  fc
    .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 })
    .map<PathChoice>((s) => ({
      kind: 'raw',
      // Only what the path itself could hold unencoded; anything else would make another target.
      segment: s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%]/g, ''),
    }))
    .filter((c) => c.kind === 'raw' && c.segment !== ''),
);

const oddNumber = fc.constantFrom(
  '1e3',
  '0x10',
  '+5',
  '%2B5',
  '%205',
  '5%20',
  '05',
  '1.0',
  '1.5',
  '-1',
  '0',
  '-0',
  '',
  ' ',
  'NaN',
  'Infinity',
  'true',
  'null',
  '%00',
  '%zz',
  '٣',
  '%EF%BC%91',
  '9999999999',
  '99999999999999999999999',
  '1,2',
  '0b11',
  '0o7',
  '1_000',
);

function queryArbitrary(op: Operation): fc.Arbitrary<string> {
  const enc = (s: string): string => encodeURIComponent(s);
  const parts: Array<fc.Arbitrary<string>> = [
    fc.constantFrom(
      '__proto__=x',
      'constructor%5Bprototype%5D=1',
      'a=b',
      '&&',
      '=',
      '==',
      'a',
      '%',
      '%zz=1',
      'x=%00',
      `k=${'v'.repeat(5000)}`,
    ),
    fc.tuple(extraKey, fc.string({ maxLength: 20 })).map(([k, v]) => `${enc(k)}=${enc(v)}`),
  ];
  for (const param of op.queryParams) {
    const name = enc(param.name);
    const schema = param.schema ?? {};
    const numeric = typesOf(schema).some((t) => t === 'number' || t === 'integer');
    parts.push(
      fc.constantFrom(
        `${name}=1&${name}=2`,
        `${name}[]=1`,
        `${name}[a]=1`,
        `${name}[$ne]=x`,
        `${name}`,
        `${name}=`,
        `${name.toUpperCase()}=1`,
      ),
      (numeric
        ? oddNumber
        : fc.oneof(
            oddNumber,
            hostileScalar.map((v) => (typeof v === 'string' ? enc(v) : String(v))),
          )
      ).map((v) => `${name}=${v}`),
      validValue(schema).map((v) => `${name}=${enc(typeof v === 'string' ? v : JSON.stringify(v))}`),
      fc.string({ unit: 'binary', maxLength: 100 }).map((v) => `${name}=${enc(v)}`),
    );
  }
  return fc.array(fc.oneof(...parts), { minLength: 1, maxLength: 4 }).map((list) => list.join('&'));
}

function validQuery(op: Operation): fc.Arbitrary<string> {
  if (op.queryParams.length === 0) return fc.constant('');
  return fc
    .tuple(
      ...op.queryParams.map((p) => {
        const pair = validValue(p.schema ?? {}).map((v) => [p.name, v] as const);
        return p.required ? pair : fc.option(pair, { nil: undefined });
      }),
    )
    .map((pairs) =>
      pairs
        .filter((p): p is readonly [string, Json] => p !== undefined && p[1] !== null)
        .map(
          ([k, v]) =>
            `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
        )
        .join('&'),
    );
}

const contentTypes = fc.constantFrom<string | null>(
  null,
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----fuzz',
  'application/xml',
  'text/html',
  'application/octet-stream',
  '*/*',
  'application',
  'garbage',
  ';;;',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/json, text/plain',
  'application/jsonx',
  'application/json;',
  'application/json; charset=utf-8; boundary=x',
);

const topLevelBodies = fc.constantFrom(
  'null',
  '[]',
  '[{}]',
  '[null]',
  '"string"',
  '""',
  '42',
  '-0',
  '1e400',
  'true',
  'false',
  ' ',
  '{',
  '}',
  '{"a":1,}',
  "{'a':1}",
  '{a:1}',
  'NaN',
  'undefined',
  '\uFEFF{}',
  '{}{}',
  '{} x',
  '{"a":1}\u0000',
  '/* c */ {}',
  '{"\\ud800":1}',
  '{"a":"\\u0000"}',
  '{"a":"\\x41"}',
  '\u0000',
  '{}',
);

// ------------------------------------------------------------------ cases by family

const defaults = (op: Operation): Omit<FuzzCase, 'family' | 'auth' | 'body'> => ({
  path: Object.fromEntries(op.pathParams.map((p) => [p.name, { kind: 'valid' } as PathChoice])),
  idPick: 0,
  query: '',
  contentType: 'default',
  requestId: null,
  headers: [],
  framing: null,
});

export function caseArbitrary(op: Operation, family: Family): fc.Arbitrary<FuzzCase> {
  const base = defaults(op);
  const body: fc.Arbitrary<BodyRecipe> = op.body
    ? validBody(op).map<BodyRecipe>((value) => ({ kind: 'json', value }))
    : fc.constant<BodyRecipe>({ kind: 'none' });
  const common = fc.record({
    auth: authArbitrary(op),
    idPick: fc.nat(7),
    query: validQuery(op),
    requestId: fc.option(saneRequestId, { nil: null, freq: 2 }),
  });
  const build = (arb: fc.Arbitrary<Partial<FuzzCase>>): fc.Arbitrary<FuzzCase> =>
    fc
      .tuple(common, body, arb)
      .map(([c, b, changes]) => ({ ...base, ...c, body: b, family, ...changes }) as FuzzCase);

  const properties = Object.keys(op.body?.properties ?? {});
  const propertyKey =
    properties.length > 0
      ? fc.oneof({ arbitrary: fc.constantFrom(...properties), weight: 4 }, extraKey)
      : extraKey;

  switch (family) {
    case 'valid':
      return build(fc.constant({}));
    case 'field-types': {
      const known = Object.entries(op.body?.properties ?? {});
      const perField = (key: string): fc.Arbitrary<Json> => {
        const boundary = known.find(([k]) => k === key)?.[1];
        const near = boundary && boundaryStrings(boundary);
        return near ? fc.oneof({ arbitrary: hostileValue, weight: 3 }, near) : hostileValue;
      };
      const change = propertyKey.chain((key) => perField(key).map((v) => [key, v] as [string, Json]));
      return fc
        .tuple(validBody(op), fc.array(change, { minLength: 1, maxLength: 3 }))
        .chain(([valid, changes]) =>
          build(
            fc.constant({
              body: {
                kind: 'json',
                value: new Entries([
                  ...entriesOf(valid).filter(([k]) => !changes.some(([c]) => c === k)),
                  ...changes,
                ]),
              },
            }),
          ),
        );
    }
    case 'missing-extra':
      return fc
        .tuple(
          validBody(op),
          fc.subarray(properties),
          fc.array(fc.tuple(extraKey, hostileValue), { maxLength: 4 }),
          fc.option(fc.constantFrom(...(properties.length > 0 ? properties : ['x'])), { nil: undefined }),
        )
        .chain(([valid, dropped, extra, recased]) => {
          const entries = entriesOf(valid).filter(([k]) => !dropped.includes(k));
          const recase: Array<[string, Json]> =
            recased === undefined
              ? []
              : [[recased.toUpperCase() === recased ? recased.toLowerCase() : recased.toUpperCase(), 'x']];
          return build(
            fc.constant({ body: { kind: 'json', value: new Entries([...entries, ...extra, ...recase]) } }),
          );
        });
    case 'wide':
      return fc
        .tuple(
          validBody(op),
          fc.oneof(
            { arbitrary: fc.integer({ min: 600, max: 6000 }), weight: 4 },
            fc.constantFrom(20_000, 70_000),
          ),
          fc.constantFrom('top', 'array-field', 'object-field'),
          propertyKey,
        )
        .chain(([valid, n, where, field]) =>
          build(fc.constant({ body: { kind: 'wide', base: valid, n, where, field } as BodyRecipe })),
        );
    case 'deep':
      return fc
        .tuple(
          validBody(op),
          fc.integer({ min: 500, max: 5000 }),
          fc.constantFrom('array', 'object'),
          fc.option(propertyKey, { nil: null }),
        )
        .chain(([valid, depth, shape, field]) =>
          build(fc.constant({ body: { kind: 'deep', base: valid, depth, shape, field } as BodyRecipe })),
        );
    case 'top-level':
      return build(
        fc.oneof(
          topLevelBodies.map((text) => ({ body: { kind: 'text', text } as BodyRecipe })),
          validBody(op).map((v) => ({ body: { kind: 'json', value: [v] } as BodyRecipe })),
          validBody(op).map((v) => ({
            body: {
              kind: 'text',
              text: `${serialize(v, new Map())}${serialize(v, new Map())}`,
            } as BodyRecipe,
          })),
          fc.constant({ body: { kind: 'none' } as BodyRecipe }),
          fc.constant({ body: { kind: 'text', text: '' } as BodyRecipe, contentType: 'application/json' }),
        ),
      );
    case 'content-type':
      return fc
        .tuple(validBody(op), contentTypes, fc.constantFrom('json', 'form', 'multipart', 'plain'))
        .chain(([valid, contentType, encoding]) => {
          const fields = entriesOf(valid).map(
            ([k, v]) => [k, typeof v === 'string' ? v : serialize(v, new Map())] as [string, string],
          );
          const text =
            encoding === 'json'
              ? undefined
              : encoding === 'form'
                ? fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') ||
                  'a=b'
                : encoding === 'multipart'
                  ? `${fields.map(([k, v]) => `------fuzz\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}------fuzz--\r\n`
                  : fields.map(([k, v]) => `${k}: ${v}`).join('\n') || 'hello';
          return build(
            fc.constant({
              contentType,
              ...(text === undefined
                ? { body: { kind: 'json', value: valid } as BodyRecipe }
                : { body: { kind: 'text', text } as BodyRecipe }),
            }),
          );
        });
    case 'query':
      return build(queryArbitrary(op).map((query) => ({ query })));
    case 'path':
      return build(
        fc
          .tuple(
            ...op.pathParams.map((p) =>
              fc
                .oneof({ arbitrary: oddSegment, weight: 4 }, fc.constant<PathChoice>({ kind: 'valid' }))
                .map((c) => [p.name, c] as const),
            ),
          )
          .map((choices) => ({ path: Object.fromEntries(choices) })),
      );
    case 'headers':
      return build(
        fc.record({
          requestId: fc.option(fc.oneof(oddRequestId, saneRequestId), { nil: null, freq: 5 }),
          headers: fc.oneof(
            { arbitrary: extraHeaders, weight: 4 },
            fc.constantFrom<Array<[string, string]>>(
              [['X-Huge', 'h'.repeat(40_000)]],
              Array.from({ length: 300 }, (_, i): [string, string] => [`X-Many-${i}`, 'v']),
              [
                ['X-Request-Id', 'first'],
                ['X-Request-Id', 'second'],
              ],
            ),
          ),
        }),
      );
    case 'auth':
      return build(authHostile.map((auth) => ({ auth })));
    case 'framing':
      return build(
        fc
          .constantFrom<Framing>(
            ...(REFUSED_FRAMINGS.keys() as Iterable<Framing>),
            'lf-line-endings',
            'folded-header',
            'absolute-form-target',
          )
          .map((framing) => ({ framing })),
      );
  }
}

/** One line describing a case, for the counterexample fast-check prints. */
export function describeCase(c: FuzzCase): string {
  const text = JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text.length > 1500 ? `${text.slice(0, 1500)}… (${text.length} chars)` : text;
}
