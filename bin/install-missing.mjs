// What `npm start` and `npm test` do first on a fresh clone: install the npm packages when node_modules is missing or
// older than the lockfile (npm ci). Plain JavaScript, since it runs before anything is installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `npm ci` when the installed packages do not match the lockfile; exits the process if it fails. */
export function ensureNpmPackages(tag) {
  const lockfile = path.join(ROOT, 'package-lock.json');
  const installedMarker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const stale =
    !existsSync(installedMarker) || statSync(installedMarker).mtimeMs < statSync(lockfile).mtimeMs;
  if (!stale) return;
  console.error(`[${tag}] installing npm packages (npm ci)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Runs `node <args>` in the project root with this terminal, passing signals on; exits with the child's code. */
export function runNode(args) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group; the child stops everything and exits.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
