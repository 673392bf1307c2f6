/** The report of a chaos run: the figures and invariant tables as markdown, and the raw data as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_KINDS } from './faults.js';
import { invariantTable } from './invariants.js';
import type { ChaosRun } from './run.js';
import type { ChaosSettings } from './settings.js';

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

function overloadRows(run: ChaosRun): string[] {
  const { overload, throughput } = run;
  if (!overload) return [];
  return [
    `| overload: arrival rate × duration | ${overload.rate}/s × ${overload.seconds} s (${(overload.rate / throughput).toFixed(1)}× the ${throughput.toFixed(1)}/s sustained under chaos) |`,
    `| overload: first answers | ${list(overload.firstStatus)} |`,
    `| overload: first-answer latency p50 / p99 | ${overload.p50.toFixed(0)} / ${overload.p99.toFixed(0)} ms |`,
    `| overload: orders accepted / drain after load stopped | ${overload.accepted} / ${overload.drainSeconds.toFixed(1)} s |`,
    `| overload: peak RSS per process during overload (MiB) | ${overload.peakRss} |`,
  ];
}

const NETWORK_KINDS = [
  FAULT_KINDS.partitionPostgres,
  FAULT_KINDS.partitionTemporal,
  FAULT_KINDS.partitionNats,
  FAULT_KINDS.lossTemporal,
  FAULT_KINDS.latencyPostgres,
];

function networkRows(settings: ChaosSettings, run: ChaosRun): string[] {
  if (!settings.network) return [];
  const seconds = run.plannedFaults.flatMap((f) => ('seconds' in f ? [f.seconds] : []));
  return [
    `| faults: network | ${NETWORK_KINDS.map((kind) => `${kind} ${run.faults.counts[kind] ?? 0}`).join(', ')} (each ${Math.min(...seconds)}–${Math.max(...seconds)} s, ${seconds.reduce((a, b) => a + b, 0)} s in all) |`,
  ];
}

/** The markdown the run's summary is: figures, the invariant table, the violation count and the first violations. */
export function chaosReport(settings: ChaosSettings, run: ChaosRun): string {
  const { load, faults, client } = run;
  const totalKills = Object.values(run.kills).reduce((a, b) => a + b, 0);
  const figures = [
    '| figure | value |',
    '|---|---|',
    `| seed | ${settings.seed} |`,
    `| orders placed in the chaos phase / accepted in all | ${load.placed} / ${load.accepted.length} |`,
    `| final statuses | ${run.statusCounts.map((s) => `${s.status} ${s.n}`).join(', ')} |`,
    `| client answers | ${list(load.outcomes) || '-'} |`,
    `| bad inputs sent -> status | ${list(load.badInputResults)} |`,
    `| client retries (503/429, connection) | ${client.retriesUnavailable}, ${client.retriesConnection} |`,
    `| faults: processes killed (SIGKILL) | ${totalKills} (${run.workers.map((name) => `${name} ${run.kills[name] ?? 0}`).join(', ')}, notifications consumer ${run.kills['consumer-notifications'] ?? 0}, api ${run.kills.api ?? 0}) |`,
    `| unplanned exits restarted by the supervisor | ${Object.entries(run.crashes)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')} |`,
    `| faults: restarts | Temporal ${faults.counts[FAULT_KINDS.restartTemporal] ?? 0}, NATS ${faults.counts[FAULT_KINDS.restartNats] ?? 0}, Postgres ${faults.counts[FAULT_KINDS.restartDb] ?? 0}, API ${faults.counts[FAULT_KINDS.restartApi] ?? 0} |`,
    `| faults: injected transient activity failures | ${run.injected} (before the work: rate ${settings.faultRate}; after it, lost completions: rate ${settings.afterFaultRate}; +${settings.latencyMs} ms per attempt) |`,
    ...networkRows(settings, run),
    `| time placing orders | ${load.placingSeconds.toFixed(1)} s${run.paceRate ? ` (held to ${run.paceRate.toFixed(2)} orders/s to span the fault schedule)` : ''} |`,
    `| longest stall (orders open, none ending) | ${run.sessions.longestStallSeconds.toFixed(0)} s |`,
    `| attempts ended at their start-to-close timeout while their work ran on | ${run.abandoned} |`,
    `| longest session idle in a transaction | ${(run.sessions.longestIdleInTransactionMs / 1000).toFixed(1)} s (${run.sessions.samples} samples) |`,
    `| time to drain after the last fault | ${run.drainSeconds.toFixed(1)} s |`,
    `| events settled after the drain (outboxes published, notifications consumed) | ${run.events.seconds.toFixed(1)} s${run.events.unpublished + run.events.unconsumed > 0 ? ` (gave up: ${run.events.unpublished} unpublished, ${run.events.unconsumed} unconsumed)` : ''} |`,
    `| peak RSS per process (MiB) | ${Object.entries(run.peakRssMiB)
      .map(([name, mib]) => `${name} ${mib}`)
      .join(', ')} |`,
    ...overloadRows(run),
  ].join('\n');
  const violations = run.results.reduce((sum, r) => sum + r.violations.length, 0);
  const firstViolations = run.results.flatMap((r) =>
    r.violations.slice(0, 10).map((v) => `- ✗ ${r.name}: ${v}`),
  );
  return [
    `## Chaos run (seed ${settings.seed}, ${settings.orders} orders)`,
    figures,
    invariantTable(run.results),
    `**invariant violations: ${violations}**`,
    ...(firstViolations.length > 0 ? [firstViolations.join('\n')] : []),
  ].join('\n\n');
}

/** Writes `report.md` and `report.json` into `settings.reportDir`; returns their paths and the markdown. */
export function writeChaosReport(settings: ChaosSettings, run: ChaosRun) {
  mkdirSync(settings.reportDir, { recursive: true });
  const markdown = chaosReport(settings, run);
  const markdownPath = path.join(settings.reportDir, 'report.md');
  const jsonPath = path.join(settings.reportDir, 'report.json');
  writeFileSync(markdownPath, `${markdown}\n`);
  // The database URL may carry a password: the raw data leaves it out.
  const { databaseUrl: _, ...knobs } = settings;
  writeFileSync(jsonPath, `${JSON.stringify({ settings: knobs, ...run }, null, 2)}\n`);
  return { markdownPath, jsonPath, markdown };
}
