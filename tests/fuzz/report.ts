/** The report of a fuzzing run: a markdown summary and the raw figures as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FuzzSummary } from './events.js';

/** One fuzzing run as the report shows it. */
export interface FuzzRun {
  seed: string;
  maxExamples: number;
  exitCode: number | null;
  seconds: number;
  summary: FuzzSummary;
  /** Where schemathesis's own output, NDJSON and JUnit reports are. */
  files: { log: string; ndjson: string; junit: string };
}

const LISTED = 50;

function section(title: string, lines: string[]): string[] {
  if (lines.length === 0) return [];
  const more = lines.length > LISTED ? [`- … and ${lines.length - LISTED} more`] : [];
  return [`### ${title} (${lines.length})`, '', ...lines.slice(0, LISTED).map((l) => `- ${l}`), ...more, ''];
}

/** The markdown summary: exit code, cases per phase, operations, and the failures and errors, if any. */
export function fuzzReport(run: FuzzRun): string {
  const { summary } = run;
  return [
    `## API contract fuzzing (seed ${run.seed}, ${run.maxExamples} generated cases per operation)`,
    '',
    '| figure | value |',
    '|---|---|',
    `| schemathesis exit code | ${run.exitCode} |`,
    `| test cases | ${summary.cases} (${Object.entries(summary.casesByPhase)
      .map(([phase, n]) => `${phase} ${n}`)
      .join(', ')}) |`,
    `| operations exercised / selected | ${summary.operationsExercised.length} / ${summary.operationsSelected} |`,
    `| failed checks / errors | ${summary.failures.length} / ${summary.errors.length} |`,
    `| stop reason | ${summary.stopReason ?? '-'} |`,
    `| time | ${run.seconds} s |`,
    `| schemathesis output | ${run.files.log} |`,
    '',
    ...section('failed checks', summary.failures),
    ...section('errors', summary.errors),
  ].join('\n');
}

/** Writes `report.md` and `report.json` into `dir`; returns the markdown's path. */
export function writeFuzzReport(dir: string, run: FuzzRun): string {
  mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, 'report.md');
  writeFileSync(markdown, `${fuzzReport(run)}\n`);
  writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(run, null, 2)}\n`);
  return markdown;
}
