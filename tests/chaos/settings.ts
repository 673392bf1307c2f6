/** The knobs of a chaos run, read once from the environment (the suite's header lists them). */
import path from 'node:path';
import { SAGA_PLACEMENTS, type SagaPlacement } from '../../contracts/orders.js';
import { PROJECT_ROOT } from '../../core/config.js';
import { TEST_POSTGRES_URL } from '../../harness/throwaway-database.js';

/** Everything a run needs to know; `databaseUrl` undefined skips the suite. */
export interface ChaosSettings {
  orders: number;
  seed: number;
  concurrency: number;
  faultRate: number;
  afterFaultRate: number;
  latencyMs: number;
  killsPerService: number;
  restartDb: boolean;
  drainTimeoutSeconds: number;
  overloadSeconds: number;
  overloadFactor: number;
  /** Orders per second in the overload phase; 0 derives it from the sustained rate × `overloadFactor`. */
  overloadRate: number;
  /**
   * Where the orders' steps run: `distributed`, a worker process per service; `colocated`, one worker process
   * with every service and an API placing orders colocated.
   */
  placement: SagaPlacement;
  /**
   * Network faults (`CHAOS_NETWORK`): every process in a namespace of its own, with partitions, loss and latency on
   * its links to Postgres, Temporal and NATS. Needs root.
   */
  network: boolean;
  /** How long each partition and each degraded phase lasts, drawn from [min, max] seconds (`CHAOS_PARTITION_S=20-60`). */
  partitionSeconds: [number, number];
  /** Every order ends within this many seconds of the last fault healing (`CHAOS_DRAIN_BOUND_S`), or it is a violation. */
  drainBoundSeconds: number;
  /** Extra environment for every product process (`CHAOS_PRODUCT_ENV=NAME=value,...`), to try a setting's absence. */
  productEnv: Record<string, string>;
  /** Admin URL of the Postgres server the run creates its own database on. */
  databaseUrl: string | undefined;
  reportDir: string;
}

function numberFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min = 0, max = Number.POSITIVE_INFINITY, integer = true } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'an integer' : 'a number';
    throw new Error(`${name}=${raw}: expected ${kind} in [${min}, ${max}]`);
  }
  return value;
}

function booleanFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name}=${raw}: expected true or false`);
}

function placementFrom(raw: string | undefined): SagaPlacement {
  if (raw === undefined || raw === '') return 'distributed';
  if ((SAGA_PLACEMENTS as readonly string[]).includes(raw)) return raw as SagaPlacement;
  throw new Error(`CHAOS_PLACEMENT=${raw}: expected ${SAGA_PLACEMENTS.join(' or ')}`);
}

function rangeFrom(env: NodeJS.ProcessEnv, name: string, fallback: [number, number]): [number, number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)-(\d+)$/.exec(raw);
  const [min, max] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!(min >= 1 && max >= min))
    throw new Error(`${name}=${raw}: expected <min>-<max> seconds, 1 ≤ min ≤ max`);
  return [min, max];
}

function envListFrom(raw: string | undefined): Record<string, string> {
  const entries = (raw ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`CHAOS_PRODUCT_ENV: ${pair}: expected NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    });
  return Object.fromEntries(entries);
}

/** Reads the CHAOS_* variables (defaults: a short local run), the test Postgres URL and REPORT_DIR. */
export function loadChaosSettings(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const reportDir = env.REPORT_DIR
    ? path.resolve(env.REPORT_DIR)
    : path.join(PROJECT_ROOT, '.data', 'reports', 'chaos');
  const probability = { min: 0, max: 1, integer: false };
  return {
    orders: numberFrom(env, 'CHAOS_ORDERS', 60, { min: 1 }),
    seed: numberFrom(env, 'CHAOS_SEED', 42),
    concurrency: numberFrom(env, 'CHAOS_CONCURRENCY', 8, { min: 1 }),
    faultRate: numberFrom(env, 'CHAOS_FAULT_RATE', 0.05, probability),
    afterFaultRate: numberFrom(env, 'CHAOS_AFTER_FAULT_RATE', 0.03, probability),
    latencyMs: numberFrom(env, 'CHAOS_LATENCY_MS', 10),
    // At least one: a chaos run that kills nothing proves nothing.
    killsPerService: numberFrom(env, 'CHAOS_KILLS_PER_SERVICE', 2, { min: 1 }),
    restartDb: booleanFrom(env, 'CHAOS_RESTART_DB', true),
    drainTimeoutSeconds: numberFrom(env, 'CHAOS_DRAIN_TIMEOUT_S', 300, { min: 1 }),
    overloadSeconds: numberFrom(env, 'CHAOS_OVERLOAD_SECONDS', 0),
    overloadFactor: numberFrom(env, 'CHAOS_OVERLOAD_FACTOR', 4, { min: 0, integer: false }),
    overloadRate: numberFrom(env, 'CHAOS_OVERLOAD_RATE', 0),
    placement: placementFrom(env.CHAOS_PLACEMENT),
    network: booleanFrom(env, 'CHAOS_NETWORK', false),
    partitionSeconds: rangeFrom(env, 'CHAOS_PARTITION_S', [20, 60]),
    drainBoundSeconds: numberFrom(env, 'CHAOS_DRAIN_BOUND_S', 180, { min: 1 }),
    productEnv: envListFrom(env.CHAOS_PRODUCT_ENV),
    // TEST_DATABASE_URL, else DATABASE_URL: the server the postgres variants of `npm test` use.
    databaseUrl: TEST_POSTGRES_URL,
    reportDir,
  };
}

/** An upper bound for the whole run (setup, placing, drain, overload), for the suite's hook timeout. */
export function runTimeoutMs(settings: ChaosSettings): number {
  const seconds =
    300 + settings.orders * 3 + settings.drainTimeoutSeconds * (settings.overloadSeconds > 0 ? 2 : 1);
  return (seconds + settings.overloadSeconds * 4) * 1000;
}
