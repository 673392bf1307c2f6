/**
 * One chaos run on a started topology: orders placed while the fault schedule fires, the drain, the optional
 * overload phase, then the invariants read from each service's tables, from Temporal and from JetStream.
 */
import { loadConfig } from '../../core/config.js';
import { ChaosClient, type ClientStats } from './client.js';
import { checkEventInvariants, type EventSettle } from './event-invariants.js';
import {
  countInjectedFaults,
  type Fault,
  type FaultRecord,
  injectFault,
  isNetworkFault,
  planFaults,
  runFaultSchedule,
} from './faults.js';
import { checkInvariants, type InvariantResult, no5xxResult, overloadResult } from './invariants.js';
import {
  badInputs,
  type CatalogProduct,
  drainOrders,
  type LoadResult,
  placeOrders,
  planOrders,
} from './load.js';
import {
  abandonedAttempts,
  drainBoundResult,
  idleInTransactionResult,
  lateAnswerResult,
  overrunResult,
  type SessionWatch,
  watchSessions,
} from './network-invariants.js';
import { type OverloadResult, runOverload } from './overload.js';
import { Rng } from './rng.js';
import type { ChaosSettings } from './settings.js';
import type { ChaosTopology } from './topology.js';

/** How long the outboxes and the notifications durable may take to empty after the last order ended. */
const EVENT_SETTLE_TIMEOUT_S = 120;

/** Everything a run measured, for the suite's assertions and the report. */
export interface ChaosRun {
  plannedFaults: Fault[];
  faults: FaultRecord;
  load: LoadResult;
  overload: OverloadResult | undefined;
  /** Seconds from the end of the last fault until every order had ended (or the drain gave up). */
  drainSeconds: number;
  /** Orders per second the load was held to (so it lasts as long as the network faults), or undefined. */
  paceRate: number | undefined;
  /** Sessions idle in a transaction and the longest stall, sampled over the run. */
  sessions: SessionWatch;
  /** Attempts the workers ended at their start-to-close timeout while their work still ran. */
  abandoned: number;
  /** Accepted orders per second over placing and draining. */
  throughput: number;
  results: InvariantResult[];
  /** How long the relays and the notifications consumer took to catch up once the orders had ended. */
  events: EventSettle;
  statusCounts: Array<{ status: string; n: number }>;
  /** Transient failures and lost completions the workers injected. */
  injected: number;
  /** SIGKILLs and unplanned exits per process name (`api`, `worker-<service>` or `worker-colocated`). */
  kills: Record<string, number>;
  /** The names of the run's worker processes (one per service, or the one colocated worker). */
  workers: string[];
  crashes: Record<string, number>;
  peakRssMiB: Record<string, number>;
  client: ClientStats;
}

/** Runs the whole chaos scenario of `settings` against `topology`; `catalog` is what the database was seeded with. */
export async function runChaos(
  topology: ChaosTopology,
  settings: ChaosSettings,
  catalog: CatalogProduct[],
  log: (line: string) => void,
): Promise<ChaosRun> {
  // Draw order matters: the same seed gives the same bad inputs, fault schedule and order plan.
  const rng = new Rng(settings.seed);
  const bad = badInputs(rng);
  const plannedFaults = planFaults(
    rng,
    [...topology.workers.keys()],
    settings.killsPerService,
    settings.restartDb,
    settings.network ? { seconds: settings.partitionSeconds } : undefined,
  );
  const plan = planOrders(rng, settings.orders, bad);
  const client = new ChaosClient(topology.apiUrl);
  // Network faults last seconds each: the load is spread over the whole schedule (a kill or restart counted as 5 s),
  // so every fault meets orders in flight.
  const scheduleSeconds = plannedFaults.reduce((sum, f) => sum + (isNetworkFault(f) ? f.seconds : 5), 0);
  const paceRate = settings.network ? settings.orders / scheduleSeconds : undefined;
  const sql = topology.sql();
  // The bound is the product's default timeout, whatever CHAOS_PRODUCT_ENV sets: turning it off must show.
  const sessions = watchSessions(
    sql,
    topology.databaseName,
    loadConfig({}).database.timeouts.idleInTransactionMs,
  );

  // Place the orders (bounded concurrency) while the faults fire at evenly spaced points of progress.
  const load = placeOrders({
    client,
    rng,
    plan,
    seed: settings.seed,
    concurrency: settings.concurrency,
    ratePerSecond: paceRate,
  });
  let loadEnded = false;
  const markEnded = () => {
    loadEnded = true;
  };
  load.done.then(markEnded, markEnded);
  const schedule = runFaultSchedule({
    faults: plannedFaults,
    orders: settings.orders,
    placed: load.placed,
    // A load that died stops the schedule too (its error is the one to report).
    stopped: () => loadEnded,
    inject: (fault) => injectFault(topology, fault, rng),
    log,
  });
  const [placing, faulting] = await Promise.allSettled([load.done, schedule]);
  if (placing.status === 'rejected') throw placing.reason;
  if (faulting.status === 'rejected') throw faulting.reason;
  const loadResult = placing.value;
  const faults = faulting.value;
  const { accepted } = loadResult;
  log(
    `placed ${loadResult.placed} orders (${accepted.length} accepted) in ${loadResult.placingSeconds.toFixed(1)} s; waiting for them to end`,
  );

  // Drain: every accepted order must end within the bound.
  await drainOrders(sql, accepted.length, settings.drainTimeoutSeconds);
  const drainSeconds = (Date.now() - faults.lastFaultAt) / 1000;
  const throughput = accepted.length / ((Date.now() - loadResult.startedAt) / 1000);

  let overload: OverloadResult | undefined;
  if (settings.overloadSeconds > 0) {
    const rate = settings.overloadRate || Math.max(5, Math.round(throughput * settings.overloadFactor));
    log(`overload: ${rate} orders/s for ${settings.overloadSeconds} s`);
    overload = await runOverload({
      client,
      rng,
      seed: settings.seed,
      rate,
      seconds: settings.overloadSeconds,
      accepted,
      processes: topology.processes,
    });
    const stoppedAt = Date.now();
    await drainOrders(sql, accepted.length, settings.drainTimeoutSeconds);
    overload.drainSeconds = (Date.now() - stoppedAt) / 1000;
  }

  const sessionWatch = await sessions.stop();
  const startingStock = new Map(catalog.map((p) => [p.sku, p.available]));
  const results = await checkInvariants(sql, await topology.temporal(), accepted, startingStock);
  results.push(no5xxResult(client.stats));
  results.push(
    overrunResult(topology.logDir, [...topology.workers.keys()], accepted.length),
    lateAnswerResult(
      topology.logDir,
      topology.processes.map((p) => p.name),
      accepted.length,
    ),
    idleInTransactionResult(sessionWatch),
    drainBoundResult(drainSeconds, settings.drainBoundSeconds, accepted.length),
  );
  if (overload) results.push(overloadResult(overload.arrivals, overload.unanswered));
  const events = await checkEventInvariants(sql, topology.natsUrl, EVENT_SETTLE_TIMEOUT_S);
  results.push(...events.results);
  const statusCounts =
    (await sql`select status, count(*)::int as n from orders.orders group by status order by status`) as unknown as Array<{
      status: string;
      n: number;
    }>;
  const byName = (read: (p: ChaosTopology['processes'][number]) => number) =>
    Object.fromEntries(topology.processes.map((p) => [p.name, read(p)]));
  return {
    plannedFaults,
    faults,
    load: loadResult,
    overload,
    drainSeconds,
    paceRate,
    sessions: sessionWatch,
    abandoned: abandonedAttempts(topology.logDir, [...topology.workers.keys()]),
    throughput,
    results,
    events: events.settle,
    statusCounts,
    injected: countInjectedFaults(topology.logDir, [...topology.workers.keys()]),
    kills: byName((p) => p.kills),
    workers: [...topology.workers.keys()],
    crashes: byName((p) => p.crashes),
    peakRssMiB: byName((p) => Math.round(p.peakRssMiB)),
    client: client.stats,
  };
}
