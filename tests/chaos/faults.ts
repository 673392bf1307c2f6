/** The fault schedule of a chaos run: which processes die or restart, in seeded order, at which point of progress. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ManagedProcess } from '../../harness/processes.js';
import { sleep } from './load.js';
import type { Dependency } from './network.js';
import type { Rng } from './rng.js';
import type { ChaosTopology } from './topology.js';

/** Kinds of fault the schedule holds. */
export const FAULT_KINDS = {
  killWorker: 'kill-worker',
  killConsumer: 'kill-consumer',
  restartApi: 'restart-api',
  restartNats: 'restart-nats',
  restartTemporal: 'restart-temporal',
  restartDb: 'restart-db',
  partitionPostgres: 'partition-postgres',
  partitionTemporal: 'partition-temporal',
  partitionNats: 'partition-nats',
  lossTemporal: 'loss-temporal',
  latencyPostgres: 'latency-postgres',
} as const;

/** A process's link to a dependency, cut (all packets dropped) or lossy, for `seconds`. */
export interface LinkFault {
  kind:
    | typeof FAULT_KINDS.partitionPostgres
    | typeof FAULT_KINDS.partitionTemporal
    | typeof FAULT_KINDS.partitionNats
    | typeof FAULT_KINDS.lossTemporal;
  process: string;
  seconds: number;
  /** Share of packets dropped (100: a partition). */
  percent: number;
}

/** The dependency each link fault degrades. */
const LINK_OF: Record<LinkFault['kind'], Dependency> = {
  [FAULT_KINDS.partitionPostgres]: 'postgres',
  [FAULT_KINDS.partitionTemporal]: 'temporal',
  [FAULT_KINDS.partitionNats]: 'nats',
  [FAULT_KINDS.lossTemporal]: 'temporal',
};

/** Latency on every Postgres link for a phase: mean ± jitter per chunk towards the server. */
export const POSTGRES_LATENCY = { meanMs: 500, jitterMs: 200 };

/**
 * One fault: SIGKILL a worker (with its relay) or the notifications consumer (each is started again), or restart
 * the API, Temporal, NATS or Postgres.
 */
export type Fault =
  | { kind: typeof FAULT_KINDS.killWorker; worker: string }
  | LinkFault
  | { kind: typeof FAULT_KINDS.latencyPostgres; seconds: number }
  | {
      kind:
        | typeof FAULT_KINDS.killConsumer
        | typeof FAULT_KINDS.restartApi
        | typeof FAULT_KINDS.restartTemporal
        | typeof FAULT_KINDS.restartNats
        | typeof FAULT_KINDS.restartDb;
    };

/**
 * Every worker process (by name) and the notifications consumer killed `killsPerService` times; the API, Temporal
 * and NATS (and Postgres) restarted once; shuffled.
 */
export function planFaults(
  rng: Rng,
  workers: readonly string[],
  killsPerService: number,
  restartDb: boolean,
  /** With network faults: how long each partition or degraded phase lasts, [min, max] seconds. */
  network?: { seconds: [number, number] },
): Fault[] {
  const faults: Fault[] = network ? planNetworkFaults(rng, workers, network.seconds) : [];
  for (const worker of workers) {
    for (let k = 0; k < killsPerService; k++) faults.push({ kind: FAULT_KINDS.killWorker, worker });
  }
  for (let k = 0; k < killsPerService; k++) faults.push({ kind: FAULT_KINDS.killConsumer });
  faults.push(
    { kind: FAULT_KINDS.restartApi },
    { kind: FAULT_KINDS.restartTemporal },
    { kind: FAULT_KINDS.restartNats },
  );
  if (restartDb) faults.push({ kind: FAULT_KINDS.restartDb });
  for (let i = faults.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [faults[i], faults[j]] = [faults[j] as Fault, faults[i] as Fault];
  }
  return faults;
}

/**
 * The network faults of a run: each worker cut from Postgres and, separately, from Temporal; the API cut from each;
 * a phase of latency on every Postgres link; 10 % loss on one worker's Temporal link; one worker's relay cut from NATS.
 */
function planNetworkFaults(rng: Rng, workers: readonly string[], [min, max]: [number, number]): Fault[] {
  const seconds = () => rng.int(min, max);
  const link = (kind: LinkFault['kind'], process: string, percent = 100): LinkFault => ({
    kind,
    process,
    seconds: seconds(),
    percent,
  });
  return [
    ...workers.flatMap((worker) => [
      link(FAULT_KINDS.partitionPostgres, worker),
      link(FAULT_KINDS.partitionTemporal, worker),
    ]),
    link(FAULT_KINDS.partitionTemporal, 'api'),
    link(FAULT_KINDS.partitionPostgres, 'api'),
    { kind: FAULT_KINDS.latencyPostgres, seconds: seconds() },
    link(FAULT_KINDS.lossTemporal, rng.pick(workers), 10),
    link(FAULT_KINDS.partitionNats, rng.pick(workers)),
  ];
}

/** Whether `fault` is one of the network's (it then says how long it lasts). */
export function isNetworkFault(
  fault: Fault,
): fault is LinkFault | { kind: 'latency-postgres'; seconds: number } {
  return 'seconds' in fault;
}

/** How a fault reads in the log. */
export function faultLabel(fault: Fault): string {
  if (fault.kind === FAULT_KINDS.killWorker) return `kill -9 ${fault.worker}`;
  if (fault.kind === FAULT_KINDS.latencyPostgres) {
    return `latency ${POSTGRES_LATENCY.meanMs}±${POSTGRES_LATENCY.jitterMs} ms on every Postgres link for ${fault.seconds} s`;
  }
  if ('process' in fault) {
    const what = fault.percent >= 100 ? 'partition' : `${fault.percent} % loss on`;
    return `${what} ${fault.process} ↔ ${LINK_OF[fault.kind]} for ${fault.seconds} s`;
  }
  return fault.kind === FAULT_KINDS.killConsumer ? 'kill -9 consumer-notifications' : fault.kind;
}

/** SIGKILLs a supervised process, waits `pauseMs`, starts it again unless the run is stopping. */
async function killAndRestart(topology: ChaosTopology, proc: ManagedProcess, pauseMs: number): Promise<void> {
  await proc.kill();
  await sleep(pauseMs);
  // Only if it is down: a second start() would orphan a child that outlived its SIGKILL wait.
  if (!topology.stopping && !proc.running) proc.start();
}

/** Carries out one fault on the topology (the pauses between stop and start come from `rng`). */
export async function injectFault(topology: ChaosTopology, fault: Fault, rng: Rng): Promise<void> {
  if (isNetworkFault(fault)) {
    const network = topology.network;
    if (!network) throw new Error(`${faultLabel(fault)}: the topology has no network namespaces`);
    if ('process' in fault) {
      await network.degrade(fault.process, LINK_OF[fault.kind], fault.seconds * 1000, fault.percent);
    } else {
      await network.slow(
        'postgres',
        POSTGRES_LATENCY.meanMs,
        POSTGRES_LATENCY.jitterMs,
        fault.seconds * 1000,
      );
    }
  } else if (fault.kind === FAULT_KINDS.killWorker) {
    const proc = topology.workers.get(fault.worker);
    if (!proc) throw new Error(`no worker process ${fault.worker}`);
    await killAndRestart(topology, proc, rng.int(200, 1500));
  } else if (fault.kind === FAULT_KINDS.killConsumer) {
    await killAndRestart(topology, topology.consumer, rng.int(200, 1500));
  } else if (fault.kind === FAULT_KINDS.restartApi) {
    await killAndRestart(topology, topology.api, rng.int(200, 1000));
  } else if (fault.kind === FAULT_KINDS.restartTemporal) {
    await topology.restartTemporal(rng.int(500, 2000));
  } else if (fault.kind === FAULT_KINDS.restartNats) {
    // Long enough that relays buffer commits and the consumer's pulls fail, not just a blip.
    await topology.restartNats(rng.int(2000, 5000));
  } else {
    const version = readdirSync('/etc/postgresql')[0] ?? '15';
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], {
      stdio: 'ignore',
    });
  }
}

/** What the schedule did: faults carried out per kind, and when the last one ended. */
export interface FaultRecord {
  counts: Record<string, number>;
  lastFaultAt: number;
}

/**
 * Fires `faults` one after another at evenly spaced points of the load's progress (fault k once
 * (k+1)/(n+1) of `orders` are placed); resolves when the last one is done.
 */
export async function runFaultSchedule(options: {
  faults: Fault[];
  orders: number;
  placed: () => number;
  /** True once the load ended: the faults still due then are left out. */
  stopped: () => boolean;
  inject: (fault: Fault) => Promise<void>;
  log: (line: string) => void;
}): Promise<FaultRecord> {
  const { faults, orders, placed, stopped, inject, log } = options;
  const record: FaultRecord = { counts: {}, lastFaultAt: Date.now() };
  let next = 0;
  while (next < faults.length) {
    const due = Math.floor(((next + 1) * orders) / (faults.length + 1));
    if (placed() < due) {
      if (stopped()) break;
      await sleep(100);
      continue;
    }
    const fault = faults[next++] as Fault;
    log(`fault: ${faultLabel(fault)}`);
    await inject(fault);
    // Counted once carried out: the suite asserts these, so a fault that threw must not look injected.
    record.counts[fault.kind] = (record.counts[fault.kind] ?? 0) + 1;
    record.lastFaultAt = Date.now();
  }
  return record;
}

/** Transient failures and lost completions the workers injected, counted from their logs. */
export function countInjectedFaults(logDir: string, workers: readonly string[]): number {
  return workers.reduce((sum, worker) => {
    const text = readFileSync(path.join(logDir, `${worker}.log`), 'utf8');
    return sum + (text.match(/injected (transient fault|lost completion)/g)?.length ?? 0);
  }, 0);
}
