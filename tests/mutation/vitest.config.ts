/**
 * The tests the mutation run (`npm run test:mutation`, stryker.config.mjs) runs against each mutant: the ones that
 * exercise the mutated modules in this process — the saga on the time-skipping test server and the replay gate
 * (its workflow code in this process's sandbox, TEMPORAL_DEBUG=1), the activities on PGlite, the API's guards, the
 * events relay and consumer. Tests that start processes or whole stacks would run the unmutated code (or every mutant's code at once)
 * and only slow the run.
 */
import { defineConfig } from 'vitest/config';

/** Every test a mutant may meet; `MUTATION_TESTS` (comma-separated globs) narrows it for a run of one area. */
const ALL_TESTS = [
  'tests/workflows/**/*.test.ts',
  // The versioning gate: recorded histories of every shape replayed against the mutated workflow code.
  'tests/replay/replay.test.ts',
  'tests/activities/**/*.test.ts',
  'tests/api/units.test.ts',
  'tests/api/auth.test.ts',
  'tests/api/cursor.test.ts',
  'tests/api/problems.test.ts',
  'tests/api/openapi-problems.test.ts',
  'tests/events/envelope.test.ts',
  'tests/events/outbox.test.ts',
  // The orders activities' metrics events (what the worker turns into saga_orders_* counters).
  'tests/observability/order-events.test.ts',
  'tests/events/relay.test.ts',
  'tests/events/consumer.test.ts',
];

export default defineConfig({
  test: {
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : ALL_TESTS,
    globalSetup: ['tests/mutation/global-setup.ts'],
    hookTimeout: 120_000,
    testTimeout: 60_000,
    pool: 'forks',
  },
});
