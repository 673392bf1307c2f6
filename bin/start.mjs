#!/usr/bin/env node
// `npm start` on a fresh clone: installs what is missing (npm packages, Temporal binaries), then runs the dev stack.
import path from 'node:path';
import { ensureTemporalTools } from '../harness/temporal-tools.mjs';
import { ensureNpmPackages, ROOT, runNode } from './install-missing.mjs';

ensureNpmPackages('start');
if (!process.env.TEMPORAL_ADDRESS) ensureTemporalTools();
runNode(['--import', 'tsx', path.join(ROOT, 'bin', 'dev-stack.ts')]);
