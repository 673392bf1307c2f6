#!/usr/bin/env node
// `npm start` on a fresh clone: installs what is missing (npm packages, Temporal and NATS binaries), then runs the
// dev stack.
import path from 'node:path';
import { ensureNatsServer, ensureTemporalTools } from '../harness/dev-tools.mjs';
import { ensureNpmPackages, ROOT, runNode } from './install-missing.mjs';

ensureNpmPackages('start');
if (!process.env.TEMPORAL_ADDRESS) ensureTemporalTools();
if (!process.env.NATS_URL) ensureNatsServer();
runNode(['--import', 'tsx', path.join(ROOT, 'bin', 'dev-stack.ts')]);
