#!/usr/bin/env node
// `npm test` on a fresh clone: installs what is missing exactly as `npm start` does (npm packages here, the Temporal
// binaries in vitest's global setup), then runs `vitest run` with any arguments given after `npm test --`.
import path from 'node:path';
import { ensureNpmPackages, ROOT, runNode } from './install-missing.mjs';

ensureNpmPackages('test');
runNode([path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)]);
