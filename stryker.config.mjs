// @ts-check
/**
 * Mutation testing of the core (`npm run test:mutation`; docs/TESTING.md): the saga, the activities, the API's guards,
 * the events relay and consumer. Runs on Node 22 (tools/mutation/run.mjs), PGlite only, the tests of
 * tests/mutation/vitest.config.ts. `--incremental` reuses earlier results for unchanged code and tests (`--ci`: the
 * committed baselines of tests/mutation/incremental/, one per scope of tests/mutation/ci-scope.json).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'tests/mutation/vitest.config.ts', related: false },
  mutate: [
    'workflows/order-saga.ts',
    'workflows/order-state.ts',
    'workflows/compensations.ts',
    'workflows/placement.ts',
    'activities/inventory.ts',
    'activities/payments.ts',
    'activities/shipping.ts',
    'activities/orders.ts',
    'activities/colocated.ts',
    'activities/data-errors.ts',
    'api/orders/cursor.ts',
    'api/orders/idempotency.ts',
    'api/middleware/auth.ts',
    'api/middleware/load-shedding.ts',
    'api/problems/*.ts',
    'events/relay.ts',
    'events/consumer.ts',
  ],
  coverageAnalysis: 'perTest',
  // `--incremental` reuses this file's results for mutants whose code and covering tests did not change (`--ci`
  // names one file per scope instead).
  incremental: false,
  incrementalFile: 'tests/mutation/stryker-incremental.json',
  // A mutant that makes workflow code throw fails its workflow task, which Temporal retries: keep waits short.
  timeoutMS: 15_000,
  timeoutFactor: 1.5,
  dryRunTimeoutMinutes: 30,
  concurrency: 2,
  thresholds: { high: 90, low: 80, break: null },
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: '.data/reports/mutation/mutation.json' },
  htmlReporter: { fileName: '.data/reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: [
    '.tools',
    '.data',
    'dist',
    'coverage',
    'bench-results',
    'tools/mutation/node22/node_modules',
  ],
  cleanTempDir: 'always',
};
