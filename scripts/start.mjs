#!/usr/bin/env node
// `npm start` on a fresh clone: installs what is missing (npm packages, Temporal binaries), then runs the dev stack.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalTools } from './temporal-tools.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockfile = path.join(ROOT, 'package-lock.json');
const installedMarker = path.join(ROOT, 'node_modules', '.package-lock.json');

const depsStale =
  !existsSync(installedMarker) || statSync(installedMarker).mtimeMs < statSync(lockfile).mtimeMs;
if (depsStale) {
  console.error('[start] installing npm packages (npm ci)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
if (!process.env.TEMPORAL_ADDRESS) ensureTemporalTools();

const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'dev-stack.ts')], {
  cwd: ROOT,
  stdio: 'inherit',
});
// Ctrl-C reaches the child through the terminal's process group; the child stops everything and exits.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
