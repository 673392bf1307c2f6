/** The pinned contract fuzzer: installed into the project's tool environment, run once against a live document. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../core/config.js';
import { type ManagedProcess, startProcess } from '../../harness/processes.js';

/** Pinned fuzzer, installed into the project's tool environment next to the Temporal binaries. */
export const SCHEMATHESIS = 'schemathesis==4.32.5';
const VENV_BIN = path.join(PROJECT_ROOT, '.tools', 'venv', 'bin');

/** Every check the run applies to each response. */
export const CHECKS = [
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

/** The `schemathesis` binary of `.tools/venv`, installed (pinned) first if it is missing or another version. */
export function ensureSchemathesis(log: (line: string) => void): string {
  // The venv exists unless the Temporal binaries came from elsewhere (TEMPORAL_CLI_PATH, PATH).
  if (!existsSync(path.join(VENV_BIN, 'python'))) {
    const venv = spawnSync('python3', ['-m', 'venv', path.dirname(VENV_BIN)], { stdio: 'inherit' });
    if (venv.status !== 0) throw new Error('python3 -m venv .tools/venv failed: schemathesis needs Python 3');
  }
  const binary = path.join(VENV_BIN, 'schemathesis');
  const wanted = SCHEMATHESIS.split('==')[1] ?? '';
  const version = existsSync(binary) ? spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (!version.includes(wanted)) {
    log(`installing ${SCHEMATHESIS} into .tools/venv`);
    const pip = spawnSync(
      path.join(VENV_BIN, 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', SCHEMATHESIS],
      { stdio: 'inherit' },
    );
    if (pip.status !== 0) throw new Error(`pip install ${SCHEMATHESIS} failed`);
  }
  return binary;
}

/** What to fuzz, how hard, and where the reports go. */
export interface FuzzRunOptions {
  binary: string;
  /** The live OpenAPI document, e.g. `http://127.0.0.1:3000/openapi.json`. */
  documentUrl: string;
  /** Sent on every request; the admin key opens every route, so all of them get fuzzed. */
  bearerKey: string;
  maxExamples: number;
  seed: string;
  reportDir: string;
  ndjsonPath: string;
  junitPath: string;
  logFile: string;
}

/**
 * Starts `schemathesis run`: examples, boundary/negative coverage, `maxExamples` generated cases per operation and
 * stateful sequences along the document's links. Await `.exited` for its exit code; its output is in `logFile`.
 */
export function startSchemathesis(options: FuzzRunOptions): ManagedProcess {
  return startProcess({
    name: 'schemathesis',
    command: options.binary,
    args: [
      'run',
      options.documentUrl,
      '--checks',
      CHECKS.join(','),
      '--phases',
      'examples,coverage,fuzzing,stateful',
      '--max-examples',
      String(options.maxExamples),
      '--seed',
      options.seed,
      '--header',
      `Authorization: Bearer ${options.bearerKey}`,
      '--request-timeout',
      '45',
      // One worker thread: CPython 3.11's AST constructor keeps its recursion depth in state shared by all threads,
      // so two threads compiling at once (Hypothesis describing its lambdas) can raise a spurious SystemError
      // "AST constructor recursion depth mismatch" (python/cpython#106905), an error of the tool, not the API.
      '--workers',
      '1',
      '--suppress-health-check',
      'too_slow,filter_too_much',
      '--report',
      'ndjson,junit',
      '--report-dir',
      options.reportDir,
      '--report-ndjson-path',
      options.ndjsonPath,
      '--report-junit-path',
      options.junitPath,
    ],
    env: { NO_COLOR: '1' },
    // schemathesis keeps its example database in ./.schemathesis, which belongs with the reports.
    cwd: options.reportDir,
    logFile: options.logFile,
  });
}
