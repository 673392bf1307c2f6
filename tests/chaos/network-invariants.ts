/**
 * What the network faults add to the chaos table: no activity attempt outlived its timeout (the workers log one that
 * did), no database request waited for its answer past the answer deadline (each process measures its requests in
 * the driver and logs a late answer), no Postgres session sat idle in a transaction past its timeout (sampled from
 * pg_stat_activity every second while the run lasts), every order drained within the stated bound once the faults
 * healed; and the longest stall, the longest time orders were open while none of them ended.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type postgres from 'postgres';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../../core/config/schema.js';
import { LATE_ANSWER_MESSAGE, RESPONSE_MARGIN_MS } from '../../db/client.js';
import type { InvariantResult } from './invariants.js';

export const NETWORK_INVARIANTS = {
  noOverrun: 'no activity attempt ran past its start-to-close timeout + 5 s',
  noLateAnswer: 'no database request waited past its answer deadline (statement timeout + 2 s) + 3 s',
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

/** How far past the default answer deadline a request may wait for its answer: the timer and a busy event loop. */
const LATE_ANSWER_MARGIN_MS = 3_000;

/** The lines of the processes' logs that contain `text`, each prefixed with its process. */
function processLines(logDir: string, processes: readonly string[], text: string): string[] {
  return processes.flatMap((name) => {
    const file = path.join(logDir, `${name}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes(text))
      .map((line) => `${name}: ${line.slice(0, 300)}`);
  });
}

/**
 * Requests of any product process (API, workers, consumer) that waited for a Postgres answer longer than the default
 * deadline + margin. The deadline itself cuts a hung connection at the deadline, so with it in place none does; a
 * process without one (no statement timeout) waits out the whole partition.
 */
export function lateAnswerResult(
  logDir: string,
  processes: readonly string[],
  checked: number,
): InvariantResult {
  const bound = DEFAULT_STATEMENT_TIMEOUT_MS + RESPONSE_MARGIN_MS + LATE_ANSWER_MARGIN_MS;
  const violations = processLines(logDir, processes, LATE_ANSWER_MESSAGE).filter((line) => {
    const waited = /"waitedMs":(\d+)/.exec(line)?.[1];
    return waited === undefined || Number(waited) > bound;
  });
  return { name: NETWORK_INVARIANTS.noLateAnswer, checked, violations };
}

/** Attempts the workers logged as still running 5 s past their start-to-close timeout. */
export function overrunResult(logDir: string, workers: readonly string[], attempts: number): InvariantResult {
  const violations = processLines(logDir, workers, 'activity attempt overran its start-to-close timeout');
  return { name: NETWORK_INVARIANTS.noOverrun, checked: attempts, violations };
}

/** Attempts the workers ended at their timeout while their work still ran (a figure, not a violation). */
export function abandonedAttempts(logDir: string, workers: readonly string[]): number {
  return processLines(logDir, workers, 'abandoned at its start-to-close timeout').length;
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
