/** Who ran each charge: from each payments process's /metrics, from the workflow histories, and from the ledger. */
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { orderWorkflowId } from '../../contracts/orders.js';
import { scrape, sumSamples } from '../../harness/prometheus-text.js';
import type { TestDatabase } from '../../harness/throwaway-database.js';
import type { WorkerProcess } from './topology.js';

/** The payments activity every order runs exactly once when nothing fails. */
const CHARGE = 'chargePayment';

/**
 * Successful charges each process reports on its own /metrics (the saga activity histogram); the Temporal SDK's
 * exporter is the fallback, so the proof holds whichever of the two a worker build serves.
 */
export async function chargeCounts(workers: readonly WorkerProcess[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const worker of workers) {
    const own = await scrape(worker.metricsUrl);
    const sdk = own === undefined ? await scrape(worker.sdkMetricsUrl) : undefined;
    if (own === undefined && sdk === undefined) throw new Error(`${worker.name}: no /metrics answers`);
    counts[worker.name] = own
      ? sumSamples(own, 'saga_activity_duration_seconds_count', { activity: CHARGE, outcome: 'success' })
      : sumSamples(sdk ?? '', 'temporal_activity_execution_latency_seconds_count', { activity_type: CHARGE });
  }
  return counts;
}

/** Charges per process from the histories: ActivityTaskStarted carries the identity `payments@<pid>/<build>`. */
export async function chargedBy(
  client: Client,
  orderIds: readonly string[],
  workers: readonly WorkerProcess[],
): Promise<Record<string, number>> {
  const byPid = new Map(workers.map((w) => [String(w.pid), w.name]));
  const counts: Record<string, number> = {};
  for (const orderId of orderIds) {
    const history = await client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === CHARGE,
    );
    const startedEvent = events.find(
      (e) =>
        scheduled?.eventId != null &&
        String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
    );
    const identity = startedEvent?.activityTaskStartedEventAttributes?.identity ?? '';
    const pid = /^payments@(\d+)\//.exec(identity)?.[1] ?? '';
    const name = byPid.get(pid) ?? `unknown(${identity})`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Charge rows in the payments ledger and the distinct orders they belong to. */
export async function ledgerTotals(database: TestDatabase): Promise<{ charges: number; orders: number }> {
  const rows = await database.db.execute<{ charges: string | number; orders: string | number }>(
    sql`select count(*) as charges, count(distinct order_id) as orders from payments.ledger where kind = 'CHARGE'`,
  );
  const row = (Array.isArray(rows) ? rows[0] : (rows as { rows: unknown[] }).rows[0]) as {
    charges: string | number;
    orders: string | number;
  };
  return { charges: Number(row.charges), orders: Number(row.orders) };
}
