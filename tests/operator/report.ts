/**
 * What an operator suite compared, written for people and for tools: `<suite>.md` and `<suite>.json` in the report
 * folder (`REPORT_DIR`, default `.data/reports/operator/`), next to the suite's screenshots and logs.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../core/config.js';

/** Where every operator suite writes its report, screenshots and logs. */
export const REPORT_DIR = path.resolve(
  process.env.REPORT_DIR ?? path.join(PROJECT_ROOT, '.data', 'reports', 'operator'),
);

/** One check as it ended: what it expected, what it found, and how vitest judged it. */
interface CheckEntry {
  check: string;
  state: string;
  durationMs: number | null;
  expected: unknown;
  actual: unknown;
  errors: string[];
}

/** The bits of a finished vitest test the report reads (`afterEach(({ task }) => …)`). */
interface FinishedTest {
  name: string;
  result?: { state: string; duration?: number; errors?: ReadonlyArray<{ message: string }> };
}

/** Collects one suite's checks, screenshots and logs; `write()` puts them in the report folder. */
export class OperatorReport {
  private readonly checks: CheckEntry[] = [];
  private readonly files: string[] = [];
  private pending: { expected: unknown; actual: unknown } | undefined;
  private setupError: string | undefined;
  private readonly startedAt = new Date();

  /** Clears what an earlier run of this suite left: every file of the folder named `<suite>…`. */
  constructor(readonly suite: string) {
    mkdirSync(REPORT_DIR, { recursive: true });
    for (const file of readdirSync(REPORT_DIR)) {
      if (file.startsWith(`${suite}.`) || file.startsWith(`${suite}-`)) rmSync(path.join(REPORT_DIR, file));
    }
  }

  /** `<report folder>/<suite>-<name>`, for a screenshot or log of this suite; listed in the report. */
  file(name: string): string {
    const file = path.join(REPORT_DIR, `${this.suite}-${name}`);
    if (!this.files.includes(file)) this.files.push(file);
    return file;
  }

  /** Notes what the running check compares; vitest's verdict is added when it ends (`finish`). */
  compared<T>(expected: unknown, actual: T): T {
    this.pending = { expected, actual };
    return actual;
  }

  /** From `afterEach`: closes the entry of the check that just ran. */
  finish(test: FinishedTest): void {
    this.checks.push({
      check: test.name,
      state: test.result?.state ?? 'unknown',
      durationMs: test.result?.duration === undefined ? null : Math.round(test.result.duration),
      expected: this.pending?.expected ?? null,
      actual: this.pending?.actual ?? null,
      errors: (test.result?.errors ?? []).map((error) => error.message),
    });
    this.pending = undefined;
  }

  /** From a failing `beforeAll`: the reason no check ran. */
  failedSetup(error: unknown): void {
    this.setupError = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }

  /** Writes `<suite>.json` and `<suite>.md`; returns their paths. */
  write(): string[] {
    const finishedAt = new Date();
    const relative = (file: string) => path.relative(REPORT_DIR, file);
    const json = {
      suite: this.suite,
      startedAt: this.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - this.startedAt.getTime(),
      setupError: this.setupError ?? null,
      passed: this.checks.filter((c) => c.state === 'pass').length,
      failed: this.checks.filter((c) => c.state === 'fail').length,
      checks: this.checks,
      files: this.files.map(relative),
    };
    const markdown = [
      `# Operator check: ${this.suite}`,
      '',
      `${json.startedAt}, ${(json.durationMs / 1000).toFixed(0)} s: ${json.passed} passed, ${json.failed} failed.`,
      ...(this.setupError ? ['', '## Setup failed', '', '```', this.setupError, '```'] : []),
      '',
      '| check | result |',
      '| ----- | ------ |',
      ...this.checks.map((c) => `| ${c.check.replaceAll('|', '\\|')} | ${c.state.toUpperCase()} |`),
      '',
      '## What was compared',
      ...this.checks.flatMap((c) => [
        '',
        `### ${c.state === 'pass' ? 'PASS' : c.state.toUpperCase()}: ${c.check}`,
        '',
        '```json',
        JSON.stringify({ expected: c.expected, actual: c.actual }, null, 2),
        '```',
        ...c.errors.map((error) => `\n> ${error.split('\n')[0]}`),
      ]),
      '',
      '## Files',
      '',
      ...this.files.map((file) => `- [${relative(file)}](${relative(file)})`),
      '',
    ].join('\n');
    const written = [path.join(REPORT_DIR, `${this.suite}.json`), path.join(REPORT_DIR, `${this.suite}.md`)];
    writeFileSync(written[0] as string, `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(written[1] as string, markdown);
    return written;
  }
}
