import { defineConfig } from 'vitest/config';

// The multi-process topology run (`npm run topology:test`, ~3 min): its files end in `.topology.ts`, so the
// `*.test.ts` glob of `npm test` leaves them out.
export default defineConfig({
  test: {
    include: ['tests/topology/**/*.topology.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    hookTimeout: 240_000,
    testTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
