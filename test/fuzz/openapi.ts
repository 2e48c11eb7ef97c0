/**
 * The parts of the service's own OpenAPI document the fuzz suite reads: its operations, their
 * parameters and body schemas ($ref resolved), and a small validator of the JSON Schema subset
 * Nest's Swagger module writes. The validator is the oracle: what it calls invalid, the service must
 * refuse with 400 / 40000.
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  multipleOf?: number;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  description?: string;
  default?: unknown;
  example?: unknown;
}

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
  description?: string;
}

interface OperationObject {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
  security?: Array<Record<string, string[]>>;
  tags?: string[];
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
  security?: Array<Record<string, string[]>>;
}

export interface Operation {
  /** `GET /api/v1/users/{id}` */
  name: string;
  method: string;
  template: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON body schema, references resolved; undefined when the operation takes no body. */
  body?: Schema;
  /** Needs a bearer token. */
  secured: boolean;
  /** Refuses an authenticated non-admin with 403 / 40300 (documented as such, or tagged admin). */
  adminOnly: boolean;
  /** Answers in the `{code, message, data, requestId}` envelope. */
  enveloped: boolean;
  /** A health probe: 2xx whenever the dependencies are up, whatever the request. */
  probe: boolean;
  /**
   * Answers in another party's protocol (WeChat Pay's notifications, the official account's
   * callback): its own 4xx shapes, checked only for "never 5xx" and that shape.
   */
  foreign: boolean;
  /** HTTP statuses the document lists for it. */
  documented: number[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
const API = '/api/v1/';
/** Probes stay outside the envelope by contract, whatever the document says. */
const UNENVELOPED = /^\/api\/v1\/health(\/|$)/;
/** Routes WeChat calls, answered as WeChat reads them, by contract. */
const FOREIGN = /^\/api\/v1\/(pay\/(refund-)?notify|wechat\/official\/callback)$/;

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = (op.parameters ?? []).map((p) => ({ ...p, schema: p.schema && resolve(doc, p.schema) }));
      const security = op.security ?? doc.security ?? [];
      const responses = op.responses ?? {};
      const jsonContent = Object.values(responses).some((r) =>
        Object.keys(r.content ?? {}).some((type) => /json/i.test(type)),
      );
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        name: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: bodySchema && resolve(doc, bodySchema),
        secured: security.length > 0 && security.every((req) => Object.keys(req).length > 0),
        adminOnly: (op.tags ?? []).includes('admin') || /\b40300\b/.test(responses['403']?.description ?? ''),
        enveloped:
          template.startsWith(API) && !UNENVELOPED.test(template) && !FOREIGN.test(template) && jsonContent,
        probe: UNENVELOPED.test(template),
        foreign: FOREIGN.test(template),
        documented: Object.keys(responses)
          .map(Number)
          .filter((n) => Number.isInteger(n)),
      });
    }
  }
  return operations;
}

/** A copy of `schema` with every `$ref` into components/schemas replaced by its target. */
export function resolve(doc: OpenApiDocument, schema: Schema, seen: string[] = []): Schema {
  if (schema.$ref) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    // A recursive schema is cut at its second visit: deep enough for generating and judging.
    if (seen.includes(schema.$ref)) return { type: 'object' };
    return resolve(doc, target, [...seen, schema.$ref]);
  }
  const out: Schema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, resolve(doc, v, seen)]),
    );
  }
  if (schema.items) out.items = resolve(doc, schema.items, seen);
  if (typeof schema.additionalProperties === 'object') {
    out.additionalProperties = resolve(doc, schema.additionalProperties, seen);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[key];
    if (list) out[key] = list.map((s) => resolve(doc, s, seen));
  }
  return out;
}

// ------------------------------------------------------------------ the validator (oracle)

export interface Violation {
  /** Dotted property path (`nickname`, `items.0.id`), `body` for the whole body. */
  field: string;
  reason: string;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const typesOf = (schema: Schema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The first ways `value` breaks `schema` (empty: valid), as the document states it plus the
 * contract's rules the document leaves implicit: an object schema with properties is closed
 * (unknown properties are refused), and `null` is refused unless the schema says nullable.
 * One-directional on purpose: a value called valid here may still be refused for reasons the
 * document does not state (a URL's form, a code WeChat does not know).
 */
export function violations(schema: Schema, value: unknown, field = 'body'): Violation[] {
  const out: Violation[] = [];
  check(schema, value, field, out);
  return out;
}

function check(schema: Schema, value: unknown, field: string, out: Violation[]): void {
  if (out.length >= 5) return;
  const fail = (reason: string): void => void out.push({ field, reason });
  if (schema.allOf) for (const s of schema.allOf) check(s, value, field, out);
  for (const alternatives of [schema.anyOf, schema.oneOf]) {
    if (alternatives && !alternatives.some((s) => violations(s, value, field).length === 0)) {
      fail('matches none of the alternatives');
    }
  }
  const types = typesOf(schema);
  if (value === null) {
    const nullOk = schema.nullable === true || types.includes('null') || (schema.enum ?? []).includes(null);
    if (!nullOk) fail('is null, which the schema does not allow');
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    fail(`is not one of ${JSON.stringify(schema.enum)}`);
    return;
  }
  if (types.length > 0 && !types.some((t) => hasType(t, value))) {
    fail(`is not of type ${types.join('|')}`);
    return;
  }
  if (typeof value === 'string') checkString(schema, value, fail);
  if (typeof value === 'number') checkNumber(schema, value, fail);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      fail(`has fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      fail(`has more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => check(schema.items as Schema, item, `${field}.${i}`, out));
  }
  if (isPlainObject(value)) {
    for (const key of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(value, key))
        out.push({ field: child(field, key), reason: 'is missing' });
    }
    const properties = schema.properties ?? {};
    const closed =
      schema.additionalProperties === false ||
      (schema.additionalProperties === undefined && schema.properties !== undefined);
    for (const key of Object.keys(value)) {
      const defined = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      if (defined) check(defined, value[key], child(field, key), out);
      else if (closed) out.push({ field: child(field, key), reason: 'is not a defined property' });
      else if (typeof schema.additionalProperties === 'object') {
        check(schema.additionalProperties, value[key], child(field, key), out);
      }
      if (out.length >= 5) return;
    }
  }
}

/** Top-level properties are named bare (`nickname`), as the service names them in data.errors. */
const child = (field: string, key: string): string => (field === 'body' ? key : `${field}.${key}`);

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function checkString(schema: Schema, value: string, fail: (reason: string) => void): void {
  const length = codePoints(value);
  if (schema.minLength !== undefined && length < schema.minLength)
    fail(`is shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && length > schema.maxLength) fail(`is longer than ${schema.maxLength}`);
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    fail(`does not match ${schema.pattern}`);
  }
  if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) fail('is not a date-time');
  // The document describes some strings only in words ("base64 of 16 bytes"); those words are part
  // of what it promises. An empty string is left to the service (a base64 of nothing).
  const words = `${schema.format ?? ''} ${schema.description ?? ''}`;
  if ((schema.format === 'byte' || /\bbase64\b/i.test(words)) && value !== '') {
    if (!STRICT_BASE64.test(value)) fail('is not base64');
    else {
      const bytes = /\bbase64 of (\d+) bytes\b/i.exec(words)?.[1];
      if (bytes !== undefined && Buffer.from(value, 'base64').length !== Number(bytes)) {
        fail(`is not base64 of ${bytes} bytes`);
      }
    }
  }
}

function checkNumber(schema: Schema, value: number, fail: (reason: string) => void): void {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  if (minimum !== undefined && (exclusiveMinimum === true ? value <= minimum : value < minimum)) {
    fail(`is below the minimum ${minimum}`);
  }
  if (maximum !== undefined && (exclusiveMaximum === true ? value >= maximum : value > maximum)) {
    fail(`is above the maximum ${maximum}`);
  }
  if (typeof exclusiveMinimum === 'number' && value <= exclusiveMinimum)
    fail(`is not above ${exclusiveMinimum}`);
  if (typeof exclusiveMaximum === 'number' && value >= exclusiveMaximum)
    fail(`is not below ${exclusiveMaximum}`);
  if (multipleOf !== undefined && !Number.isInteger(value / multipleOf))
    fail(`is not a multiple of ${multipleOf}`);
}

// ------------------------------------------------------------------ query strings

/** Decodes one query component as Fastify's parser does (`+` is a space); malformed stays raw. */
export function decodeQueryComponent(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export function parseQuery(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      return [decodeQueryComponent(k), decodeQueryComponent(v)];
    });
}

/** Integers in query strings are plain decimal digits (contract); a number may have a fraction. */
const QUERY_INTEGER = /^-?(0|[1-9]\d*)$/;
const QUERY_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** How the declared query parameters of `params` are broken by `query` (unknown keys are not judged). */
export function queryViolations(params: Parameter[], query: string): Violation[] {
  const pairs = parseQuery(query);
  const out: Violation[] = [];
  // On an operation with query parameters, one it does not define is refused like an unknown body
  // property; an operation without any ignores the query string (cache busters and the like).
  for (const [key] of params.length > 0 ? pairs : []) {
    if (key !== '' && !params.some((p) => p.name === key) && !out.some((v) => v.field === key))
      out.push({ field: key, reason: 'is not a parameter of the operation' });
  }
  for (const param of params) {
    const values = pairs.filter(([k]) => k === param.name).map(([, v]) => v);
    const schema = param.schema ?? {};
    const types = typesOf(schema);
    if (values.length === 0) {
      if (param.required) out.push({ field: param.name, reason: 'is missing' });
      continue;
    }
    if (values.length > 1 && !types.includes('array')) {
      out.push({ field: param.name, reason: 'is given more than once' });
      continue;
    }
    const raw = values[0];
    let value: unknown = raw;
    if (types.includes('integer') || types.includes('number')) {
      const lexical = types.includes('integer') ? QUERY_INTEGER : QUERY_NUMBER;
      if (!lexical.test(raw)) {
        out.push({
          field: param.name,
          reason: `${JSON.stringify(raw)} is not written as plain decimal digits`,
        });
        continue;
      }
      value = Number(raw);
    } else if (types.includes('boolean')) {
      if (raw !== 'true' && raw !== 'false') {
        out.push({ field: param.name, reason: `${JSON.stringify(raw)} is not true or false` });
        continue;
      }
      value = raw === 'true';
    }
    if (schema.enum && typeof value === 'string' && schema.enum.some((e) => typeof e === 'number')) {
      value = QUERY_NUMBER.test(value) ? Number(value) : value;
    }
    out.push(...violations(schema, value, param.name));
  }
  return out;
}

// ------------------------------------------------------------------ routes

/** Whether a concrete path (raw, before decoding) is matched by an operation's template. */
export function matchesTemplate(template: string, path: string): boolean {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return false;
  return t.every((segment, i) => (/^\{.+\}$/.test(segment) ? p[i] !== '' : segment === p[i]));
}
