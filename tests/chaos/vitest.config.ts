import { defineConfig } from 'vitest/config';

// The chaos run (`npm run chaos`, minutes): its files end in `.chaos.ts`, so the `*.test.ts` glob of `npm test`
// leaves them out. The suite sets its own hook timeout from the size of the run (tests/chaos/settings.ts).
export default defineConfig({
  test: {
    include: ['tests/chaos/**/*.chaos.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    hookTimeout: 3_600_000,
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
