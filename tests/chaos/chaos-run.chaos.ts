/**
 * `npm run chaos`: the real topology as separate processes (Temporal dev server on a file, NATS JetStream on a
 * store of its own, the API, one process per service worker with its outbox relay, the notifications consumer, a
 * fresh database on a real Postgres), orders placed by a well-behaved client while workers and the consumer are
 * SIGKILLed and restarted, the API, Temporal, NATS and Postgres restarted and activity faults injected; then one
 * test per invariant family (the saga's and the events'), and tests that the faults really happened. Needs a
 * Postgres server (skipped without one).
 *
 * Environment (defaults: a short local run; CI sets CHAOS_ORDERS=200 CHAOS_SEED=42 CHAOS_KILLS_PER_SERVICE=1):
 * - `TEST_DATABASE_URL`, else `DATABASE_URL`: admin URL of the Postgres server the run creates its database on
 * - `CHAOS_ORDERS` (60), `CHAOS_SEED` (42), `CHAOS_CONCURRENCY` (8): orders placed, seed of every choice, clients
 * - `CHAOS_KILLS_PER_SERVICE` (2, at least 1): SIGKILLs per worker and of the consumer; `CHAOS_RESTART_DB` (true): restart Postgres
 *   too (`pg_ctlcluster`, so the server must be this machine's)
 * - `CHAOS_PLACEMENT` (distributed): `colocated` runs one worker process with every service and places orders colocated
 * - `CHAOS_FAULT_RATE` (0.05), `CHAOS_AFTER_FAULT_RATE` (0.03), `CHAOS_LATENCY_MS` (10): injected activity faults
 * - `CHAOS_NETWORK` (false; root): every process in a network namespace of its own, and network faults on its links:
 *   each worker cut from Postgres and from Temporal, the API cut from each, 500±200 ms on every Postgres link, 10 %
 *   loss on a worker's Temporal link, a relay cut from NATS; `CHAOS_PARTITION_S` (20-60): how long each lasts
 * - `CHAOS_PRODUCT_ENV` (none): `NAME=value,...` for every product process (e.g. `DATABASE_STATEMENT_TIMEOUT_MS=0`)
 * - `CHAOS_DRAIN_TIMEOUT_S` (300): how long orders may take to end after the load; `CHAOS_DRAIN_BOUND_S` (180): the
 *   stated bound, counted from the last fault's end, beyond which the drain is a violation
 * - `CHAOS_OVERLOAD_SECONDS` (0 = off), `CHAOS_OVERLOAD_RATE` (0 = `CHAOS_OVERLOAD_FACTOR` (4) × the sustained rate)
 * - `REPORT_DIR` (`.data/reports/chaos/`): where `report.md`, `report.json` and the processes' `logs/` go
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_INVARIANTS } from './event-invariants.js';
import { FAULT_KINDS } from './faults.js';
import { INVARIANTS, type InvariantResult } from './invariants.js';
import { chaosCatalog } from './load.js';
import { NETWORK_INVARIANTS } from './network-invariants.js';
import { writeChaosReport } from './report.js';
import { type ChaosRun, runChaos } from './run.js';
import { loadChaosSettings, runTimeoutMs } from './settings.js';
import { type ChaosTopology, startChaosTopology } from './topology.js';

const settings = loadChaosSettings();
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Violations listed in an assertion's message; report.json has them all. */
const LISTED = 50;

function violationMessage(result: InvariantResult): string {
  const more = result.violations.length - LISTED;
  return [
    `${result.violations.length} of ${result.checked} checked violate "${result.name}":`,
    ...result.violations.slice(0, LISTED).map((v) => `  ${v}`),
    ...(more > 0 ? [`  … and ${more} more (report.json in ${settings.reportDir})`] : []),
  ].join('\n');
}

describe.skipIf(settings.databaseUrl === undefined)(
  settings.databaseUrl === undefined
    ? 'chaos run (skipped: set TEST_DATABASE_URL or DATABASE_URL to a Postgres server)'
    : `chaos run (seed ${settings.seed}, ${settings.orders} orders, placed ${settings.placement})`,
  () => {
    let topology: ChaosTopology | undefined;
    let run: ChaosRun;

    beforeAll(async () => {
      const logDir = path.join(settings.reportDir, 'logs');
      rmSync(logDir, { recursive: true, force: true });
      mkdirSync(logDir, { recursive: true });
      const catalog = chaosCatalog(settings.orders);
      topology = await startChaosTopology({
        settings,
        temporalCli: inject('temporalCli'),
        natsServerBinary: inject('natsServerBinary'),
        workflowBundlePath: inject('workflowBundlePath'),
        logDir,
        catalog,
      });
      log(
        `topology up: API ${topology.apiUrl}, Temporal ${topology.temporalAddress()}, NATS ${topology.natsUrl}, database ${topology.databaseName}, logs in ${logDir}`,
      );
      run = await runChaos(topology, settings, catalog, log);
      const report = writeChaosReport(settings, run);
      console.log(`\n${report.markdown}\n`);
      log(`report: ${report.markdownPath} (raw data: ${report.jsonPath})`);
    }, runTimeoutMs(settings));

    afterAll(async () => {
      await topology?.stop();
    }, 120_000);

    const invariant = (name: string) => () => {
      const result = run.results.find((r) => r.name === name);
      expect(result, `"${name}" was not checked`).toBeDefined();
      expect((result as InvariantResult).violations, violationMessage(result as InvariantResult)).toEqual([]);
    };
    it(INVARIANTS.terminal, invariant(INVARIANTS.terminal));
    it(INVARIANTS.noSagaRunning, invariant(INVARIANTS.noSagaRunning));
    it(INVARIANTS.completed, invariant(INVARIANTS.completed));
    it(INVARIANTS.undone, invariant(INVARIANTS.undone));
    it(INVARIANTS.stock, invariant(INVARIANTS.stock));
    it(INVARIANTS.idempotency, invariant(INVARIANTS.idempotency));
    it(INVARIANTS.no5xx, invariant(INVARIANTS.no5xx));
    for (const name of Object.values(EVENT_INVARIANTS)) it(name, invariant(name));
    for (const name of Object.values(NETWORK_INVARIANTS)) it(name, invariant(name));
    it.runIf(settings.overloadSeconds > 0)(
      INVARIANTS.overloadAnswered,
      invariant(INVARIANTS.overloadAnswered),
    );

    it('placed every order of the plan, and the API accepted orders', () => {
      expect(run.load.placed).toBe(settings.orders);
      expect(run.load.accepted.length, JSON.stringify(run.load.outcomes)).toBeGreaterThan(0);
    });

    it(`SIGKILLed every worker and the consumer (${settings.killsPerService}× each) and the API once`, () => {
      const asked = Object.fromEntries([
        ...run.workers.map((worker) => [worker, settings.killsPerService]),
        ['consumer-notifications', settings.killsPerService],
        ['api', 1],
      ]);
      expect(run.kills).toEqual(asked);
    });

    it(`restarted Temporal, NATS${settings.restartDb ? ' and Postgres' : ''}, and carried out the whole schedule`, () => {
      expect(run.faults.counts[FAULT_KINDS.restartTemporal] ?? 0).toBe(1);
      expect(run.faults.counts[FAULT_KINDS.restartNats] ?? 0).toBe(1);
      expect(run.faults.counts[FAULT_KINDS.restartDb] ?? 0).toBe(settings.restartDb ? 1 : 0);
      const carriedOut = Object.values(run.faults.counts).reduce((a, b) => a + b, 0);
      expect(carriedOut, JSON.stringify(run.faults.counts)).toBe(run.plannedFaults.length);
    });

    it.runIf(settings.network)(
      'cut every worker and the API from Postgres and Temporal, slowed Postgres, lost packets, cut a relay from NATS',
      () => {
        const workers = run.workers.length;
        expect(run.faults.counts).toMatchObject({
          [FAULT_KINDS.partitionPostgres]: workers + 1,
          [FAULT_KINDS.partitionTemporal]: workers + 1,
          [FAULT_KINDS.latencyPostgres]: 1,
          [FAULT_KINDS.lossTemporal]: 1,
          [FAULT_KINDS.partitionNats]: 1,
        });
      },
    );

    it('injected transient activity failures and lost completions', () => {
      expect(
        settings.faultRate + settings.afterFaultRate,
        'CHAOS_FAULT_RATE + CHAOS_AFTER_FAULT_RATE',
      ).toBeGreaterThan(0);
      expect(run.injected).toBeGreaterThan(0);
    });
  },
);
