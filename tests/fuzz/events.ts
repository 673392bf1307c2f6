/** Reads schemathesis's NDJSON event stream: what it exercised, and every failure or error it recorded. */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Statuses of a scenario, a check, a phase or a suite that mean something went wrong. */
const BAD_STATUSES = new Set(['failure', 'error', 'interrupted']);
/** The label of the stateful phase's scenario (not an operation of the document). */
const STATEFUL_LABEL = 'Stateful tests';

/** What a fuzzing run did, from its events. */
export interface FuzzSummary {
  /** Operations the document has that the run selected (from LoadingFinished). */
  operationsSelected: number;
  /** Operations that got at least one case outside the stateful phase. */
  operationsExercised: string[];
  cases: number;
  casesByPhase: Record<string, number>;
  /** One line per failed check (`<phase> <operation>: <check>: <title>`). */
  failures: string[];
  /** Scenarios, suites or phases that ended in error, engine errors, an interruption, a stop before the end. */
  errors: string[];
  stopReason: string | undefined;
}

interface CheckNode {
  name: string;
  status: string;
  failure_info?: { failure?: { title?: string; message?: string } } | null;
}

interface ScenarioFinished {
  phase: string;
  status: string;
  skip_reason?: string | null;
  recorder: { label: string; cases?: Record<string, unknown>; checks?: Record<string, CheckNode[]> };
}

type PhaseName = string | { name: string };
const phaseName = (phase: PhaseName | null | undefined) =>
  typeof phase === 'string' ? phase : (phase?.name ?? '?');
const brief = (value: unknown) => JSON.stringify(value)?.slice(0, 300) ?? String(value);

/** Summarizes the events in `ndjsonPath` (streamed: a full run writes hundreds of megabytes). */
export async function summarizeEvents(ndjsonPath: string): Promise<FuzzSummary> {
  const summary: FuzzSummary = {
    operationsSelected: 0,
    operationsExercised: [],
    cases: 0,
    casesByPhase: {},
    failures: [],
    errors: [],
    stopReason: undefined,
  };
  if (!existsSync(ndjsonPath)) {
    summary.errors.push(`no event stream at ${ndjsonPath}`);
    return summary;
  }
  const exercised = new Set<string>();
  let finished = false;
  const lines = createInterface({ input: createReadStream(ndjsonPath), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, Record<string, unknown>>;
    const [kind, body] = Object.entries(event)[0] ?? [];
    if (!kind || !body) continue;
    if (kind === 'LoadingFinished') {
      const statistic = body.statistic as { operations?: { selected?: number } } | undefined;
      summary.operationsSelected = statistic?.operations?.selected ?? 0;
    } else if (kind === 'ScenarioFinished') {
      const scenario = body as unknown as ScenarioFinished;
      const { label, cases = {}, checks = {} } = scenario.recorder;
      const count = Object.keys(cases).length;
      summary.cases += count;
      summary.casesByPhase[scenario.phase] = (summary.casesByPhase[scenario.phase] ?? 0) + count;
      if (count > 0 && label !== STATEFUL_LABEL) exercised.add(label);
      if (scenario.status === 'failure') summary.failures.push(`${scenario.phase} ${label}: scenario failed`);
      else if (BAD_STATUSES.has(scenario.status)) {
        summary.errors.push(`${scenario.phase} ${label}: scenario ${scenario.status}`);
      }
      for (const node of Object.values(checks).flat()) {
        if (node.status === 'success' || node.status === 'skip') continue;
        const failure = node.failure_info?.failure;
        summary.failures.push(
          `${scenario.phase} ${label}: ${node.name} ${node.status}: ${failure?.title ?? ''} ${failure?.message ?? ''}`.trim(),
        );
      }
    } else if (kind === 'SuiteFinished' || kind === 'PhaseFinished') {
      const status = String(body.status);
      if (BAD_STATUSES.has(status))
        summary.errors.push(`${kind} ${phaseName(body.phase as PhaseName)}: ${status}`);
    } else if (kind === 'NonFatalError') {
      summary.errors.push(`error in ${String(body.label)}: ${brief(body.value)}`);
    } else if (kind === 'FatalError') {
      summary.errors.push(`fatal: ${brief(body.exception)}`);
    } else if (kind === 'Interrupted') {
      summary.errors.push(`interrupted in ${phaseName(body.phase as PhaseName)}`);
    } else if (kind === 'EngineFinished') {
      finished = true;
      summary.stopReason = String(body.stop_reason);
      if (summary.stopReason !== 'completed') summary.errors.push(`engine stopped: ${summary.stopReason}`);
      for (const failure of (body.failures as unknown[] | undefined) ?? []) {
        summary.failures.push(`after the run: ${brief(failure)}`);
      }
    }
  }
  if (!finished) summary.errors.push('the event stream has no EngineFinished: the run did not end');
  summary.operationsExercised = [...exercised].sort();
  return summary;
}
