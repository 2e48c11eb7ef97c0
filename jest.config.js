// ESM setup required by Nest 12: ts-jest in ESM mode and `.js` import suffixes
// mapped back to the TypeScript sources.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: ['TS151001'] } },
    ],
  },
  testEnvironment: 'node',
};
// @fastify/static (CommonJS) require()s the ESM-only content-disposition 3, which Node 20 allows and
// Jest's module runtime does not: that one stateless leaf package is compiled to CommonJS for tests.
// light-my-request (Fastify's inject, used by the start-up warm-up) require()s the ESM-only cookie 1
// the same way.
common.transform['/node_modules/(content-disposition|cookie)/.+\\.js$'] =
  '<rootDir>/test/support/esm-to-cjs.mjs';
common.transformIgnorePatterns = ['/node_modules/(?!(content-disposition|cookie)/)'];

// The same end-to-end suite runs twice: on a fresh MariaDB database and on embedded SQLite.
const e2e = (db) => ({
  ...common,
  displayName: `e2e-${db}`,
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  setupFiles: [`<rootDir>/test/support/env-${db}.ts`],
});

// Several instances of the built service (`node dist/main.js`, started as child processes) sharing
// MariaDB, Redis and one fake WeChat; and the fault suites (TCP proxies cut between the app and its
// dependencies, killed processes, SIGTERM). MariaDB only: SQLite is embedded in one process.
const cluster = {
  ...common,
  displayName: 'cluster',
  testMatch: ['<rootDir>/test/cluster/**/*.e2e-spec.ts'],
  setupFiles: ['<rootDir>/test/support/env-mariadb.ts'],
};

export default {
  // A global option: Jest ignores testTimeout inside a project's config. The cluster suites give
  // their slow tests and hooks timeouts of their own.
  testTimeout: 30000,
  // One worker process, replaced once a suite leaves it above this: every suite's ESM module graph
  // stays in memory (Jest's VM modules), and in a single process run in band the heap reached
  // 2.3 GB and the last suites ran ten times slower than alone.
  workerIdleMemoryLimit: '700MB',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
    },
    // Repositories, stores and drivers against the real MariaDB, SQLite and Redis (one project:
    // each suite covers the databases it concerns itself).
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    e2e('mariadb'),
    e2e('sqlite'),
    // Generative fuzzing driven by the service's OpenAPI document. Once, on MariaDB: its cases are
    // about the HTTP edge and validation, which no database decides (e2e covers both), and it is
    // the longest suite (over two minutes).
    {
      ...common,
      displayName: 'fuzz-mariadb',
      testMatch: ['<rootDir>/test/fuzz/**/*.fuzz-spec.ts'],
      setupFiles: ['<rootDir>/test/support/env-mariadb.ts'],
    },
    cluster,
    // The client SDK (sdk/): unit tests with an in-memory `wx` shim, and the built packages
    // against the built service in sandbox mode on embedded SQLite (and the H5 page in Chromium).
    { ...common, displayName: 'sdk', testMatch: ['<rootDir>/sdk/**/*.spec.ts'] },
    { ...common, displayName: 'sdk-live', testMatch: ['<rootDir>/sdk/**/*.live-spec.ts'] },
  ],
};
