import { defineConfig } from 'vitest/config';

// The operator checks (`npm run operator:test`, 1.5–2 min; the first run also apt-installs Prometheus and Chromium):
// their files end in `.operator.ts`, so the `*.test.ts` glob of `npm test` leaves them out. One file at a time:
// each starts a whole stack and a browser, and the screenshots are only worth something on a calm machine.
export default defineConfig({
  test: {
    include: ['tests/operator/**/*.operator.ts'],
    globalSetup: ['tests/support/global-setup.ts', 'tests/operator/debian-tools.ts'],
    hookTimeout: 300_000,
    testTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
