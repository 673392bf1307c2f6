/**
 * `npm run api:fuzz`: contract fuzzing. Starts the whole stack in-process on free ports (dev server, workers, PGlite,
 * API with auth on), then runs the pinned schemathesis against the live `/openapi.json`: examples, boundary and
 * negative cases per route, generated cases and stateful sequences along the document's links. Passes only if
 * schemathesis exits 0, its event stream records no failed check and no error, and it exercised the operations.
 *
 * Environment:
 * - `API_FUZZ_MAX_EXAMPLES` (300): generated cases per operation in the fuzzing phase (coverage adds its own)
 * - `API_FUZZ_SEED` (20260131): fixed so a failure reproduces; change it to explore
 * - `REPORT_DIR` (`.data/reports/fuzz/`): `report.md`, `report.json`, schemathesis's `events.ndjson`, `junit.xml`
 *   and its output `schemathesis.log`
 * - `LOG_LEVEL` (error): the stack's logs
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../core/config.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import type { ManagedProcess } from '../../harness/processes.js';
import { summarizeEvents } from './events.js';
import { type FuzzRun, writeFuzzReport } from './report.js';
import { ensureSchemathesis, startSchemathesis } from './schemathesis.js';

const MAX_EXAMPLES = Number(process.env.API_FUZZ_MAX_EXAMPLES ?? 300);
const SEED = process.env.API_FUZZ_SEED ?? '20260131';
const REPORT_DIR = process.env.REPORT_DIR
  ? path.resolve(process.env.REPORT_DIR)
  : path.join(PROJECT_ROOT, '.data', 'reports', 'fuzz');

const CLIENT_KEY = 'fuzz-client-key';
const ADMIN_KEY = 'fuzz-admin-key';

const log = (line: string) => console.log(`[api-fuzz] ${line}`);
/** An assertion message with the first entries of `lines`; report.md and events.ndjson have them all. */
const listed = (what: string, lines: string[]) =>
  [`${lines.length} ${what} (all in ${REPORT_DIR}):`, ...lines.slice(0, 50).map((l) => `  ${l}`)].join('\n');

describe('API contract (schemathesis against the live /openapi.json)', () => {
  let stack: TestStack | undefined;
  let schemathesis: ManagedProcess | undefined;
  let run: FuzzRun;

  beforeAll(async () => {
    if (!Number.isInteger(MAX_EXAMPLES) || MAX_EXAMPLES < 1) {
      throw new Error(
        `API_FUZZ_MAX_EXAMPLES=${process.env.API_FUZZ_MAX_EXAMPLES}: expected a positive integer`,
      );
    }
    const files = {
      log: path.join(REPORT_DIR, 'schemathesis.log'),
      ndjson: path.join(REPORT_DIR, 'events.ndjson'),
      junit: path.join(REPORT_DIR, 'junit.xml'),
    };
    mkdirSync(REPORT_DIR, { recursive: true });
    // A stale stream from an earlier run must not stand in for this one.
    for (const file of Object.values(files)) rmSync(file, { force: true });
    const binary = ensureSchemathesis(log);

    stack = await startTestStack({
      temporalCli: inject('temporalCli'),
      workflowBundlePath: inject('workflowBundlePath'),
      driver: 'pglite',
      // Order events are read from the run's NATS server: without one their route would answer 503.
      natsUrl: inject('natsUrl'),
      env: {
        API_KEYS: `fuzz-app:${CLIENT_KEY}`,
        ADMIN_API_KEYS: `fuzz-admin:${ADMIN_KEY}`,
        // The fuzzer sends one key: the admin key also opens the codec server here, so its routes get fuzzed too.
        CODEC_API_KEYS: ADMIN_KEY,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      },
    });
    const started = Date.now();
    schemathesis = startSchemathesis({
      binary,
      documentUrl: `${stack.baseUrl}/openapi.json`,
      bearerKey: ADMIN_KEY,
      maxExamples: MAX_EXAMPLES,
      seed: SEED,
      reportDir: REPORT_DIR,
      ndjsonPath: files.ndjson,
      junitPath: files.junit,
      logFile: files.log,
    });
    const exitCode = await schemathesis.exited;
    schemathesis.close();
    const summary = await summarizeEvents(files.ndjson);
    const seconds = Math.round((Date.now() - started) / 1000);
    run = { seed: SEED, maxExamples: MAX_EXAMPLES, exitCode, seconds, summary, files };

    // schemathesis's own closing summary, then ours.
    const output = schemathesis?.lines ?? [];
    const from = output.findLastIndex((line) => line.includes(' SUMMARY '));
    console.log(output.slice(from >= 0 ? from : -40).join('\n'));
    log(`${summary.cases} test cases in ${seconds} s, schemathesis exit code ${exitCode}`);
    log(`report: ${writeFuzzReport(REPORT_DIR, run)} (schemathesis output: ${files.log})`);
  });

  afterAll(async () => {
    // Only still running if the hook timed out.
    await schemathesis?.stop(5_000);
    schemathesis?.close();
    await stack?.stop();
  }, 120_000);

  it('schemathesis exits 0', () => {
    expect(run.exitCode, `see ${run.files.log}`).toBe(0);
  });

  it('records no failed check', () => {
    expect(run.summary.failures, listed('failed checks', run.summary.failures)).toEqual([]);
  });

  it('records no error and runs to the end', () => {
    expect(run.summary.errors, listed('errors', run.summary.errors)).toEqual([]);
    expect(run.summary.stopReason).toBe('completed');
  });

  it('exercises the operations of the document', () => {
    // A run that generated nothing proves nothing.
    expect(run.summary.cases).toBeGreaterThan(0);
    expect(run.summary.casesByPhase.fuzzing ?? 0).toBeGreaterThan(0);
    expect(run.summary.operationsSelected).toBeGreaterThan(0);
    expect(run.summary.operationsExercised.length).toBeGreaterThan(0);
  });
});
