/**
 * docs/api.md is the API reference that ships with the repository. This file keeps it in step with
 * the code: the operations of the served OpenAPI document, the ErrorCode catalogue and the variables
 * of the environment schema must each match what the reference documents, in both directions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { ErrorCode, httpStatusOf } from '../../src/common/errors/error-code.js';
import { EnvironmentVariables } from '../../src/config/env.schema.js';
import { startHarness, type Harness } from '../support/app-harness.js';

const ROOT = process.cwd();
const REFERENCE = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
const SCHEMA_SOURCE = readFileSync(join(ROOT, 'src/config/env.schema.ts'), 'utf8');

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const METHOD = '(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE)';

/** The lines of the `## title` section of the reference, up to the next `## ` heading. */
function section(title: string): string[] {
  const lines = REFERENCE.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start < 0) throw new Error(`docs/api.md has no "## ${title}" section`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The cells of the markdown table rows among `lines` (header and separator rows left out). */
function tableRows(lines: string[]): string[][] {
  return lines
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^:?-+:?$/.test(cell)));
}

/** Endpoints given a heading of their own, e.g. "### `GET /api/v1/users/{id}`". */
function endpointHeadings(): string[] {
  const heading = new RegExp(`^#{2,4} \`${METHOD} (/[^\`\\s]*)\`\\s*$`);
  return REFERENCE.split('\n').flatMap((line) => {
    const match = heading.exec(line);
    return match ? [`${match[1]} ${match[2]}`] : [];
  });
}

/** Every "`METHOD /api/v1/…`" written anywhere in the reference (headings, tables, prose). */
function apiMentions(): string[] {
  const mention = new RegExp(`\`${METHOD} (/api/v1/[^\`\\s]*)\``, 'g');
  return [...REFERENCE.matchAll(mention)].map((match) => `${match[1]} ${match[2]}`);
}

/** The numeric values of the ErrorCode enum (a numeric enum also maps values back to names). */
function enumCodes(): number[] {
  return Object.values(ErrorCode).filter((value): value is number => typeof value === 'number');
}

/**
 * The variables EnvironmentVariables reads: the properties class-validator knows, and, so that a
 * property without any decorator is not missed, the upper-case property declarations of the source.
 */
function schemaVariables(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false);
  const fromMetadata = metadata.map((entry) => entry.propertyName);
  const body = SCHEMA_SOURCE.slice(SCHEMA_SOURCE.indexOf('class EnvironmentVariables'));
  const fromSource = [...body.matchAll(/\b([A-Z][A-Z0-9_]+)[?!]?:\s*(?:string|number|boolean)\b/g)].map(
    (match) => match[1],
  );
  return [...new Set([...fromMetadata, ...fromSource])].sort();
}

/** The variables named in the first column of the configuration table. */
function documentedVariables(): string[] {
  const names = tableRows(section('Configuration'))
    .slice(1)
    .flatMap((cells) => [...cells[0].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
  return [...new Set(names)].sort();
}

/** The rows of the error table: `[HTTP status, code]` pairs. */
function documentedErrors(): Array<{ status: number; code: number }> {
  return tableRows(section('Error codes'))
    .slice(1)
    .map((cells) => ({ status: Number(cells[0]), code: Number(cells[1].replace(/`/g, '')) }));
}

describe('API reference (docs/api.md)', () => {
  let h: Harness;
  let operations: string[];

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.http().get('/api/docs-json');
    expect(res.status).toBe(200);
    const paths = (res.body as { paths: Record<string, Record<string, unknown>> }).paths;
    operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the OpenAPI document has operations to compare', () => {
    expect(operations.length).toBeGreaterThan(0);
  });

  it('documents every operation of the OpenAPI document under a heading of its own', () => {
    const documented = new Set(endpointHeadings());
    expect(operations.filter((operation) => !documented.has(operation))).toEqual([]);
  });

  it('documents no endpoint that the OpenAPI document lacks', () => {
    const served = new Set(operations);
    const documented = [...endpointHeadings(), ...apiMentions()];
    expect([...new Set(documented.filter((endpoint) => !served.has(endpoint)))]).toEqual([]);
  });

  it('documents each endpoint once', () => {
    const headings = endpointHeadings();
    expect(headings.filter((endpoint, i) => headings.indexOf(endpoint) !== i)).toEqual([]);
  });

  it('documents what lies outside the OpenAPI document: Swagger UI, the document itself, /metrics', () => {
    for (const endpoint of ['GET /api/docs', 'GET /api/docs-json', 'GET /metrics']) {
      expect([endpoint, REFERENCE.includes(`\`${endpoint}\``)]).toEqual([endpoint, true]);
    }
  });

  it('lists every code of the ErrorCode catalogue in the error table, with its HTTP status', () => {
    const rows = documentedErrors();
    const documented = new Map(rows.map((row) => [row.code, row.status]));
    for (const code of enumCodes()) {
      expect([code, documented.get(code)]).toEqual([code, httpStatusOf(code)]);
    }
  });

  it('lists no error code that the catalogue lacks, and each code once', () => {
    const known = new Set(enumCodes());
    const rows = documentedErrors();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((row) => !known.has(row.code))).toEqual([]);
    const codes = rows.map((row) => row.code);
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
  });

  it('writes every "status / code" pair of its prose with a catalogued code and its own status', () => {
    const known = new Set(enumCodes());
    const pairs = [...REFERENCE.matchAll(/\b([1-5]\d\d) \/ (\d{5})\b/g)].map((match) => ({
      status: Number(match[1]),
      code: Number(match[2]),
    }));
    expect(pairs.length).toBeGreaterThan(0);
    expect(pairs.filter(({ status, code }) => !known.has(code) || httpStatusOf(code) !== status)).toEqual([]);
  });

  it('documents every variable of the environment schema in the configuration table', () => {
    const variables = schemaVariables();
    expect(variables.length).toBeGreaterThan(0);
    const documented = new Set(documentedVariables());
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable in the configuration table that the environment schema lacks', () => {
    const known = new Set(schemaVariables());
    expect(documentedVariables().filter((name) => !known.has(name))).toEqual([]);
  });

  it('stands on its own: every link and every Markdown file it names lies inside the repository', () => {
    const inside = (path: string) => path.startsWith(ROOT + sep) && existsSync(path);
    const links = [...REFERENCE.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1].split('#')[0])
      .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
    expect(links.filter((target) => !inside(resolve(ROOT, 'docs', target)))).toEqual([]);
    const named = [...REFERENCE.matchAll(/[\w./-]*\.md\b/g)].map((match) => match[0]);
    expect(
      named.filter((name) => !inside(resolve(ROOT, name)) && !inside(resolve(ROOT, 'docs', name))),
    ).toEqual([]);
  });
});
