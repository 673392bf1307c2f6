/**
 * A deadline on waiting for a pool connection, for postgres.js. When every connection of the pool hangs or cannot be
 * opened (the database is partitioned away), postgres.js queues each new query and hands it to a connection only
 * once one opens: a failed connect rejects the one query that triggered it, so a queue of hundreds drains a query
 * per connect timeout and each waits for the whole outage. An activity attempt stuck there outlives its
 * start-to-close timeout, and each retry Temporal starts queues one more. So every query issued on the pool (a
 * transaction's BEGIN included) that no connection has taken after `waitMs` is cancelled: postgres.js removes it from
 * the queue and rejects it (SQLSTATE 57014), and the attempt fails fast and is retried with backoff. A query a
 * connection has taken is not touched; the answer deadline (db/response-watchdog.ts) bounds it from there.
 */
import type postgres from 'postgres';

/** The part of a postgres.js query this needs: `state` is set once a connection has taken it. */
interface PendingQuery {
  state?: unknown;
  cancel(): unknown;
}

/** Bounds how long each query of `client` may wait for a pool connection (see the file's comment). */
export function boundPoolWait(client: postgres.Sql, waitMs: number): void {
  const unsafe = client.unsafe.bind(client) as (...args: unknown[]) => PendingQuery;
  (client as { unsafe: unknown }).unsafe = (...args: unknown[]) => {
    const query = unsafe(...args);
    // Checked once: a query taken by a connection (or already done) has its state set and is left alone. Not
    // chained on the query itself: postgres.js starts a query when it is awaited, so a `finally` here would start it.
    setTimeout(() => {
      if (!query.state) query.cancel();
    }, waitMs).unref();
    return query;
  };
}
