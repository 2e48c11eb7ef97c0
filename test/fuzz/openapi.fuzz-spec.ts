/**
 * Generative fuzzing of every operation in the service's own OpenAPI document (/api/docs-json), on
 * the real app (fake WeChat, fresh MariaDB or SQLite database). New endpoints are covered as soon
 * as the document lists them.
 *
 * For each operation and each family of inputs (valid, wrong JSON types in fields, missing and
 * extra properties, thousands of keys, thousands of levels, non-object bodies, content types, odd
 * query strings, odd path ids, odd headers, odd Authorization, broken HTTP framing), fast-check
 * sends FUZZ_RUNS requests and every answer must be: 2xx or 4xx; the envelope with exactly
 * {code, message, data, requestId}, code 0 or starting with the status; data.errors for 40000;
 * no stack frames or driver internals; under 8 KB; within 200 ms. Where the document and the
 * contract fix the outcome (an invalid value, a refused token, an unknown id), the exact code too.
 *
 *   FUZZ_SEED=<n>|random  seed of every property (default fixed, so a run can be repeated)
 *   FUZZ_RUNS=<n>         requests per operation and family (default 30)
 *   FUZZ_PATH=<path>      with -t naming one test: replay the counterexample fast-check printed
 *   FUZZ_SHRINK_MS=<n>    time spent shrinking a failure (default 5000)
 *   FUZZ_TIME_LIMIT_MS    answer time limit (default 200)
 */
import fc from 'fast-check';
import { startHarness } from '../support/app-harness.js';
import { OFFICIAL_APP_ID, OFFICIAL_APP_SECRET } from '../support/fake-wechat-http-api.js';
import {
  caseArbitrary,
  describeCase,
  Entries,
  familiesOf,
  validBody,
  type Family,
  type FuzzCase,
  type Json,
  RawJson,
  REFUSED_FRAMINGS,
} from './arbitraries.js';
import { operationsOf, type OpenApiDocument, type Operation, type Schema } from './openapi.js';
import { send } from './raw-http.js';
import { describeOutcome, runCase, type Fuzz, type Outcome } from './runner.js';

const seedEnv = process.env.FUZZ_SEED ?? '';
const SEED = seedEnv === '' ? 424242 : seedEnv === 'random' ? Date.now() % 2 ** 31 : Number(seedEnv);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const REPLAY_PATH = process.env.FUZZ_PATH || undefined;
const SHRINK_MS = Number(process.env.FUZZ_SHRINK_MS ?? 5_000);
if (!Number.isInteger(SEED) || !Number.isInteger(RUNS) || RUNS < 1) {
  throw new Error(`FUZZ_SEED must be an integer or "random", FUZZ_RUNS a positive integer`);
}

// The official account on (against the fake's second app), so its routes are fuzzed as served
// rather than all answering 404.
const h = await startHarness({
  env: {
    WECHAT_OA_APP_ID: OFFICIAL_APP_ID,
    WECHAT_OA_APP_SECRET: OFFICIAL_APP_SECRET,
    WECHAT_OA_TOKEN: 'fuzztoken',
    WECHAT_OA_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    PUBLIC_BASE_URL: 'https://api.example.com',
    OAUTH_REDIRECT_ALLOWLIST: 'https://h5.example.com',
  },
});
afterAll(() => h.close());
const fuzz = await prepare();

async function prepare(): Promise<Fuzz> {
  const { port } = h.app.getHttpServer().address() as { port: number };
  const docs = await send(port, { method: 'GET', target: '/api/docs-json', headers: [] });
  if (docs.status !== 200) throw new Error(`GET /api/docs-json answered HTTP ${docs.status}`);
  const doc = JSON.parse(docs.text) as OpenApiDocument;
  const operations = operationsOf(doc);
  const user = await h.login();
  const admin = await h.loginAdmin();
  // Codes any route may answer by contract, plus every code the document names for some answer.
  const errorCodes = new Set([40000, 40400, 41300, 43100]);
  for (const match of docs.text.matchAll(/\bcode (\d{5}(?: \/ \d{5})*)/g)) {
    for (const code of match[1].split(' / ')) errorCodes.add(Number(code));
  }
  return {
    h,
    port,
    operations,
    user,
    admin,
    knownIds: new Set([user.user.id, admin.user.id]),
    errorCodes,
    probe: operations.find(
      (o) => o.method === 'GET' && o.secured && !o.adminOnly && o.pathParams.length === 0,
    ),
    stats: { requests: 0, throwawayLogins: 0, relogins: 0, retimed: 0, statuses: new Map() },
  };
}

/** A seed per test, so that tests do not all walk the same choices; derived, so still reproducible. */
function seedFor(name: string): number {
  let hash = SEED >>> 0;
  for (const ch of name) hash = (Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0) % 2 ** 31;
  return hash;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function fuzzOperation(op: Operation, family: Family): Promise<void> {
  const name = `${op.name} ${family}`;
  let failedAt: number | undefined;
  const cases = caseArbitrary(op, family).map((c) =>
    Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) }),
  );
  const property = fc.asyncProperty(cases, async (c) => {
    // Each shrinking step is a request (a slow one is timed thrice): past the budget, the smallest
    // failure found so far is the one reported.
    if (failedAt !== undefined && Date.now() - failedAt > SHRINK_MS) return true;
    const outcome = await runCase(fuzz, op, c);
    if (outcome.problems.length === 0) return true;
    failedAt ??= Date.now();
    throw new Error(describeOutcome(outcome));
  });
  const seed = seedFor(name);
  const out = await fc.check(property, { seed, numRuns: RUNS, path: REPLAY_PATH });
  if (!out.failed) return;
  const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    [
      `${name} failed on ${h.db} (FUZZ_SEED=${SEED}; fast-check seed ${out.seed}, path "${out.counterexamplePath}", ` +
        `failed after ${out.numRuns} runs, shrunk ${out.numShrinks} times).`,
      `Replay: FUZZ_SEED=${SEED} FUZZ_PATH="${out.counterexamplePath}" NODE_OPTIONS=--experimental-vm-modules ` +
        `npx jest --selectProjects fuzz-${h.db} -t '${escapeRegExp(name)}$'`,
      `case: ${out.counterexample ? describeCase(out.counterexample[0]) : '(none)'}`,
      error,
    ].join('\n'),
  );
}

/** Ordinary requests but for one field or query value, for the sweep. */
function sweepCase(op: Operation, body: FuzzCase['body'], query = ''): FuzzCase {
  return {
    family: 'field-types',
    auth: { kind: 'principal', who: op.adminOnly ? 'admin' : 'user' },
    path: Object.fromEntries(op.pathParams.map((p) => [p.name, { kind: 'valid' } as const])),
    idPick: 0,
    query,
    contentType: 'default',
    body,
    requestId: null,
    headers: [],
    framing: null,
  };
}

/** One value of every JSON type and the classic look-alikes, for every field of every body. */
const SWEEP_VALUES: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  new RawJson('1e400'),
  new RawJson('-0'),
  new RawJson('1e3'),
  '',
  ' ',
  'NaN',
  'Infinity',
  '-0',
  '1e3',
  '0x10',
  '\u0000',
  '\ud800',
  '😀'.repeat(50),
  'x'.repeat(70_000),
  [],
  [1],
  {},
  { a: 1 },
];
/** Keys every object inherits, which a whitelist built on property lookups can miss. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** Bodies that are JSON but not an object. */
const SWEEP_BODIES = ['null', '[]', '[{}]', '"x"', '42', 'true'];

/** Strings one short of, at, and one past each length bound, in the field's alphabet. */
function edgeStrings(schema: Schema): string[] {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!types.includes('string')) return [];
  const char = /\bbase64\b/i.test(`${schema.format ?? ''} ${schema.description ?? ''}`) ? 'A' : 'a';
  const lengths = [schema.minLength, schema.maxLength].flatMap((n) =>
    n === undefined ? [] : [n - 1, n, n + 1],
  );
  return [...new Set(lengths)].filter((n) => n >= 0).map((n) => char.repeat(n));
}

const SWEEP_QUERY = [
  '1e3',
  '0x10',
  '+5',
  '%2B5',
  '%205',
  '05',
  '1.0',
  '-1',
  '0',
  '',
  'NaN',
  'Infinity',
  '-0',
  'abc',
  '1&PARAM=2',
];

describe(`OpenAPI fuzz on ${h.db} (FUZZ_SEED=${SEED}, FUZZ_RUNS=${RUNS})`, () => {
  afterAll(() => {
    process.stderr.write(
      `fuzz ${h.db}: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}, ${fuzz.stats.requests} requests, ` +
        `${fuzz.stats.throwawayLogins} throwaway logins, ${fuzz.stats.relogins} re-logins, ${fuzz.stats.retimed} re-timed\n` +
        [...fuzz.stats.statuses]
          .map(
            ([op, counts]) =>
              `  ${op}: ${[...counts]
                .sort(([a], [b]) => a - b)
                .map(([s, n]) => `${s}x${n}`)
                .join(' ')}\n`,
          )
          .join(''),
    );
  });

  it('reads operations from the document', () => {
    expect(fuzz.operations.length).toBeGreaterThan(0);
    expect(fuzz.operations.filter((o) => o.enveloped).length).toBeGreaterThan(0);
    expect(fuzz.probe).toBeDefined();
  });

  for (const op of fuzz.operations) {
    describe(op.name, () => {
      for (const family of familiesOf(op)) {
        it(family, () => fuzzOperation(op, family), 60_000 + RUNS * 2_000 + SHRINK_MS);
      }
    });
  }

  // Random choice may miss a field, a type or a framing in a short run: the sweeps visit each once
  // and report every failing request, not only the first.
  const sweep = async (cases: Array<[string, Operation, FuzzCase]>): Promise<void> => {
    const failures: Array<[string, Outcome]> = [];
    for (const [label, op, c] of cases) {
      const outcome = await runCase(fuzz, op, c);
      if (outcome.problems.length > 0) failures.push([label, outcome]);
    }
    if (failures.length > 0) {
      throw new Error(
        [
          `${failures.length} of ${cases.length} sweep requests failed on ${h.db}:`,
          ...failures.map(([label, o]) => `  ${label} :: ${o.problems[0]}`),
          '',
          'the first ones in full:',
          ...failures.slice(0, 8).map(([label, o]) => `${label}\n${describeOutcome(o)}\n`),
        ].join('\n'),
      );
    }
  };

  it(
    'sweep: every JSON type in every body field, prototype names, non-object bodies',
    () =>
      sweep(
        fuzz.operations.flatMap((op) => {
          if (!op.body) return [];
          const cases: Array<[string, Operation, FuzzCase]> = [];
          const [base] = fc.sample(validBody(op), { seed: seedFor(op.name), numRuns: 1 });
          const entries =
            base instanceof Entries ? base.entries : Object.entries(base as Record<string, Json>);
          const json = (value: Json): FuzzCase => sweepCase(op, { kind: 'json', value });
          for (const [key, schema] of Object.entries(op.body.properties ?? {})) {
            for (const value of [...SWEEP_VALUES, ...edgeStrings(schema)]) {
              const body = new Entries([...entries.filter(([k]) => k !== key), [key, value]]);
              cases.push([`${op.name} ${key}=${JSON.stringify(value)?.slice(0, 40)}`, op, json(body)]);
            }
          }
          for (const key of PROTOTYPE_NAMES) {
            for (const value of ['x', 1, {}] as Json[]) {
              const body = new Entries([...entries, [key, value]]);
              cases.push([`${op.name} extra ${key}=${JSON.stringify(value)}`, op, json(body)]);
            }
          }
          for (const text of SWEEP_BODIES) {
            cases.push([`${op.name} body ${text}`, op, sweepCase(op, { kind: 'text', text })]);
          }
          return cases;
        }),
      ),
    300_000,
  );

  it(
    'sweep: odd integers in every query parameter',
    () =>
      sweep(
        fuzz.operations.flatMap((op) =>
          op.queryParams.flatMap((param) =>
            SWEEP_QUERY.map((value): [string, Operation, FuzzCase] => {
              const name = encodeURIComponent(param.name);
              const query = `${name}=${value.replace('PARAM', name)}`;
              const body: FuzzCase['body'] = op.body ? { kind: 'json', value: {} } : { kind: 'none' };
              return [`${op.name} ?${query}`, op, sweepCase(op, body, query)];
            }),
          ),
        ),
      ),
    300_000,
  );

  it(
    'sweep: every framing the HTTP parser must refuse, on every operation',
    () =>
      sweep(
        fuzz.operations.flatMap((op) =>
          [...REFUSED_FRAMINGS.keys()].map((framing): [string, Operation, FuzzCase] => [
            `${op.name} framing ${framing}`,
            op,
            { ...sweepCase(op, op.body ? { kind: 'json', value: {} } : { kind: 'none' }), framing },
          ]),
        ),
      ),
    300_000,
  );
});
