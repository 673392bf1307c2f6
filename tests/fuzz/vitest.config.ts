import { defineConfig } from 'vitest/config';

// API contract fuzzing (`npm run api:fuzz`, ~1 min): its files end in `.fuzz.ts`, so the `*.test.ts` glob of
// `npm test` leaves them out.
export default defineConfig({
  test: {
    include: ['tests/fuzz/**/*.fuzz.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    hookTimeout: 1_800_000,
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
