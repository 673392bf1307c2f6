import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // PGlite's WASM compile (~5 s) and Temporal servers make setup slow on 2 cores.
    hookTimeout: 120_000,
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
