/**
 * `npm run api:fuzz`: contract fuzzing. Starts the whole stack in-process on free ports (dev server, workers, database,
 * API with auth on), then runs schemathesis against the live `/openapi.json`: generated and boundary cases per route
 * plus stateful sequences along the document's links. Exits non-zero on any failed check.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../core/config.js';
import { startTestStack } from '../../harness/in-process-stack.js';
// @ts-expect-error plain JavaScript module without types (it runs before npm install)
import { ensureTemporalTools } from '../../harness/temporal-tools.mjs';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';

/** Pinned fuzzer, installed into the project's tool environment next to the Temporal binaries. */
const SCHEMATHESIS = 'schemathesis==4.32.5';
const VENV_BIN = path.join(PROJECT_ROOT, '.tools', 'venv', 'bin');
const REPORT_DIR = path.join(PROJECT_ROOT, '.data', 'api-fuzz');

/** Generated cases per operation in the fuzzing phase (the coverage phase adds its boundary cases on top). */
const MAX_EXAMPLES = Number(process.env.API_FUZZ_MAX_EXAMPLES ?? 300);
/** Fixed seed so a failure reproduces; override to explore. */
const SEED = process.env.API_FUZZ_SEED ?? '20260131';

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'unsupported_method',
  'ignored_auth',
  'use_after_free',
  'ensure_resource_availability',
];

const CLIENT_KEY = 'fuzz-client-key';
const ADMIN_KEY = 'fuzz-admin-key';

function ensureSchemathesis(): string {
  // The venv exists unless the Temporal binaries came from elsewhere (TEMPORAL_CLI_PATH, PATH).
  if (!existsSync(path.join(VENV_BIN, 'python'))) {
    const venv = spawnSync('python3', ['-m', 'venv', path.dirname(VENV_BIN)], { stdio: 'inherit' });
    if (venv.status !== 0) throw new Error('python3 -m venv .tools/venv failed: schemathesis needs Python 3');
  }
  const binary = path.join(VENV_BIN, 'schemathesis');
  const wanted = SCHEMATHESIS.split('==')[1] ?? '';
  const version = existsSync(binary) ? spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (!version.includes(wanted)) {
    console.error(`[api-fuzz] installing ${SCHEMATHESIS} into .tools/venv`);
    const pip = spawnSync(
      path.join(VENV_BIN, 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', SCHEMATHESIS],
      { stdio: 'inherit' },
    );
    if (pip.status !== 0) throw new Error(`pip install ${SCHEMATHESIS} failed`);
  }
  return binary;
}

function run(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // cwd: schemathesis keeps its example database in ./.schemathesis, which belongs with the reports.
    const child = spawn(command, args, { cwd, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** Counts the test cases schemathesis ran, from its NDJSON event stream. */
function countCases(ndjsonPath: string): number {
  if (!existsSync(ndjsonPath)) return 0;
  let cases = 0;
  for (const line of readFileSync(ndjsonPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, { recorder?: { cases?: Record<string, unknown> } }>;
    const finished = event.ScenarioFinished;
    if (finished?.recorder?.cases) cases += Object.keys(finished.recorder.cases).length;
  }
  return cases;
}

async function main(): Promise<void> {
  const tools = ensureTemporalTools() as { cli: string | null };
  if (!tools.cli) throw new Error('Temporal CLI unavailable: install Python 3 or set TEMPORAL_CLI_PATH');
  const schemathesis = ensureSchemathesis();
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'api-fuzz-')), 'workflows.js');
  await writeWorkflowBundle(bundlePath, { quiet: true });

  const stack = await startTestStack({
    temporalCli: tools.cli,
    workflowBundlePath: bundlePath,
    driver: 'pglite',
    env: {
      API_KEYS: `fuzz-app:${CLIENT_KEY}`,
      ADMIN_API_KEYS: `fuzz-admin:${ADMIN_KEY}`,
      // The fuzzer sends one key: the admin key also opens the codec server here, so its routes get fuzzed too.
      CODEC_API_KEYS: ADMIN_KEY,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    },
  });
  mkdirSync(REPORT_DIR, { recursive: true });
  const ndjson = path.join(REPORT_DIR, 'events.ndjson');
  const started = Date.now();
  let exitCode = 1;
  try {
    exitCode = await run(
      schemathesis,
      [
        'run',
        `${stack.baseUrl}/openapi.json`,
        '--checks',
        CHECKS.join(','),
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        SEED,
        '--header',
        `Authorization: Bearer ${ADMIN_KEY}`,
        '--request-timeout',
        '45',
        '--workers',
        '2',
        '--suppress-health-check',
        'too_slow,filter_too_much',
        '--report',
        'ndjson,junit',
        '--report-dir',
        REPORT_DIR,
        '--report-ndjson-path',
        ndjson,
      ],
      REPORT_DIR,
    );
  } finally {
    await stack.stop();
  }
  const cases = countCases(ndjson);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`api-fuzz: ${cases} test cases in ${seconds} s, schemathesis exit code ${exitCode}`);
  // A run that generated nothing proves nothing.
  process.exit(cases === 0 ? 1 : exitCode);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
