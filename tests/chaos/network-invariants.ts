/**
 * What the network faults add to the chaos table: no activity attempt outlived its timeout (the workers log one that
 * did), no Postgres session sat idle in a transaction past its timeout (sampled from pg_stat_activity every second
 * while the run lasts), every order drained within the stated bound once the faults healed; and the longest stall,
 * the longest time orders were open while none of them ended.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type postgres from 'postgres';
import type { InvariantResult } from './invariants.js';

export const NETWORK_INVARIANTS = {
  noOverrun: 'no activity attempt ran past its start-to-close timeout + 5 s',
  noIdleInTransaction: 'no Postgres session stayed idle in a transaction past its timeout',
  drainBound: 'every order ended within the drain bound after the last fault healed',
} as const;

/** How far past the idle-in-transaction timeout a sample may see a session: the server checks at its own pace. */
const IDLE_SAMPLE_MARGIN_MS = 2_000;

/** What the watch saw over the run. */
export interface SessionWatch {
  samples: number;
  /** The longest any session was seen idle in a transaction. */
  longestIdleInTransactionMs: number;
  /** Sessions seen idle in a transaction past the timeout + margin (pid, application, age). */
  overBound: string[];
  /** The longest time orders were open and none ended. */
  longestStallSeconds: number;
}

/**
 * Samples the run's database every second until `stop()`: the age of every session idle in a transaction, and the
 * count of ended orders. Samples that fail (Postgres restarting) are skipped.
 */
export function watchSessions(
  sql: postgres.Sql,
  databaseName: string,
  idleInTransactionTimeoutMs: number,
): { stop(): Promise<SessionWatch> } {
  const watch: SessionWatch = {
    samples: 0,
    longestIdleInTransactionMs: 0,
    overBound: [],
    longestStallSeconds: 0,
  };
  const bound = idleInTransactionTimeoutMs + IDLE_SAMPLE_MARGIN_MS;
  let running = true;
  let lastEnded = -1;
  let stallStartedAt: number | undefined;
  const sample = async () => {
    const idle = await sql<Array<{ pid: number; application: string; age_ms: number }>>`
      select pid, application_name as application,
             (extract(epoch from (clock_timestamp() - state_change)) * 1000)::float8 as age_ms
        from pg_stat_activity
       where datname = ${databaseName} and state in ('idle in transaction', 'idle in transaction (aborted)')`;
    for (const session of idle) {
      watch.longestIdleInTransactionMs = Math.max(watch.longestIdleInTransactionMs, session.age_ms);
      if (session.age_ms > bound) {
        watch.overBound.push(
          `pid ${session.pid} (${session.application}) idle in transaction ${Math.round(session.age_ms)} ms`,
        );
      }
    }
    const [counts] = await sql<Array<{ ended: number; open: number }>>`
      select count(*) filter (where status in ('COMPLETED','FAILED','CANCELLED'))::int as ended,
             count(*) filter (where status not in ('COMPLETED','FAILED','CANCELLED'))::int as open
        from orders.orders`;
    const now = Date.now();
    if (counts && counts.open > 0 && counts.ended === lastEnded) {
      stallStartedAt ??= now;
      watch.longestStallSeconds = Math.max(watch.longestStallSeconds, (now - stallStartedAt) / 1000);
    } else {
      stallStartedAt = undefined;
    }
    lastEnded = counts?.ended ?? lastEnded;
    watch.samples += 1;
  };
  const loop = (async () => {
    while (running) {
      await sample().catch(() => {});
      // Unref'd: a run that threw before stop() must not be kept alive by its watch.
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return watch;
    },
  };
}

/** The lines of the workers' logs that contain `text`, each prefixed with its worker. */
function workerLines(logDir: string, workers: readonly string[], text: string): string[] {
  return workers.flatMap((worker) =>
    readFileSync(path.join(logDir, `${worker}.log`), 'utf8')
      .split('\n')
      .filter((line) => line.includes(text))
      .map((line) => `${worker}: ${line.slice(0, 300)}`),
  );
}

/** Attempts the workers logged as still running 5 s past their start-to-close timeout. */
export function overrunResult(logDir: string, workers: readonly string[], attempts: number): InvariantResult {
  const violations = workerLines(logDir, workers, 'activity attempt overran its start-to-close timeout');
  return { name: NETWORK_INVARIANTS.noOverrun, checked: attempts, violations };
}

/** Attempts the workers ended at their timeout while their work still ran (a figure, not a violation). */
export function abandonedAttempts(logDir: string, workers: readonly string[]): number {
  return workerLines(logDir, workers, 'abandoned at its start-to-close timeout').length;
}

export function idleInTransactionResult(watch: SessionWatch): InvariantResult {
  return {
    name: NETWORK_INVARIANTS.noIdleInTransaction,
    checked: watch.samples,
    violations: watch.overBound,
  };
}

export function drainBoundResult(
  drainSeconds: number,
  boundSeconds: number,
  orders: number,
): InvariantResult {
  return {
    name: NETWORK_INVARIANTS.drainBound,
    checked: orders,
    violations:
      drainSeconds > boundSeconds
        ? [`the last order ended ${drainSeconds.toFixed(1)} s after the last fault (bound ${boundSeconds} s)`]
        : [],
  };
}
