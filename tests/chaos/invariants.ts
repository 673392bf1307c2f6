/** The promises the product makes, checked after a chaos run straight from each service's tables and Temporal. */
import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import type { ClientStats } from './client.js';

export interface AcceptedOrder {
  key: string;
  orderId: string;
}

export interface InvariantResult {
  name: string;
  checked: number;
  violations: string[];
}

interface OrderRow {
  order_id: string;
  status: string;
  total_cents: number;
  items: Array<{ sku: string; quantity: number }>;
  charges: number;
  refunds: number;
  charged: number;
  refunded: number;
  shipment: string | null;
  reservation: string | null;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** The name of each invariant family, as the report's table and the suite's tests call it. */
export const INVARIANTS = {
  terminal: 'every accepted order reached a terminal state',
  noSagaRunning: 'no saga left running',
  completed: 'COMPLETED: one charge = total, no refund, live shipment, stock committed',
  undone: 'FAILED/CANCELLED: net charge 0, no live shipment, no stock held',
  stock: 'per SKU: starting stock = available + units sold; nothing left reserved',
  idempotency: 'each idempotency key = exactly one order; no order the client was not told about',
  no5xx: 'no unexpected 5xx (bad input never breaks the API)',
  overloadAnswered: 'overload: every request got an answer (no silent time-out)',
} as const;

function result(name: string, checked: number, violations: string[]): InvariantResult {
  return { name, checked, violations };
}

/** Every invariant of the issue, one row each; an empty `violations` list means it held. */
export async function checkInvariants(
  sql: postgres.Sql,
  temporal: Client,
  accepted: AcceptedOrder[],
  startingStock: Map<string, number>,
): Promise<InvariantResult[]> {
  const rows = (await sql`
    select o.order_id, o.status, o.total_cents::float8 as total_cents, o.items,
      count(*) filter (where l.kind = 'CHARGE')::int as charges,
      count(*) filter (where l.kind = 'REFUND')::int as refunds,
      -- Money is 64-bit; as float8 it reads as a JS number, exact for every total the API accepts (< 2^53).
      coalesce(sum(l.amount_cents) filter (where l.kind = 'CHARGE'), 0)::float8 as charged,
      coalesce(sum(l.amount_cents) filter (where l.kind = 'REFUND'), 0)::float8 as refunded,
      (select s.status from shipping.shipments s where s.order_id = o.order_id) as shipment,
      (select r.status from inventory.reservations r where r.order_id = o.order_id) as reservation
    from orders.orders o left join payments.ledger l on l.order_id = o.order_id
    group by o.order_id`) as unknown as OrderRow[];
  const byId = new Map(rows.map((row) => [row.order_id, row]));
  const results: InvariantResult[] = [];

  const missing = accepted
    .filter((order) => !byId.has(order.orderId))
    .map((o) => `${o.orderId}: accepted, no order row`);
  const notTerminal = rows
    .filter((row) => !TERMINAL.has(row.status))
    .map((row) => `${row.order_id}: ${row.status}`);
  results.push(result(INVARIANTS.terminal, accepted.length, [...missing, ...notTerminal]));

  // A saga writes its terminal status, then returns: its close (and the visibility record) come a moment after
  // the row the drain waited for. Give them a bounded while; one still open after that is a violation.
  const stillRunning = await runningSagas(temporal, 30_000);
  results.push(
    result(
      INVARIANTS.noSagaRunning,
      1,
      stillRunning.length > 0
        ? [`${stillRunning.length} sagas still running: ${stillRunning.join(', ')}`]
        : [],
    ),
  );

  const completed = rows.filter((row) => row.status === 'COMPLETED');
  results.push(
    result(
      INVARIANTS.completed,
      completed.length,
      completed
        .filter(
          (r) =>
            r.charges !== 1 ||
            r.charged !== r.total_cents ||
            r.refunds !== 0 ||
            r.shipment !== 'CREATED' ||
            r.reservation !== 'COMMITTED',
        )
        .map(
          (r) =>
            `${r.order_id}: charges=${r.charges} charged=${r.charged}/${r.total_cents} refunds=${r.refunds} shipment=${r.shipment} reservation=${r.reservation}`,
        ),
    ),
  );

  const undone = rows.filter((row) => row.status === 'FAILED' || row.status === 'CANCELLED');
  results.push(
    result(
      INVARIANTS.undone,
      undone.length,
      undone
        // No reservation row at all is fine: the order ended before it reserved anything.
        .filter(
          (r) =>
            r.charged - r.refunded !== 0 ||
            r.charges > 1 ||
            // BOOKING left behind means the cancel never ran and a late booking could still become CREATED.
            r.shipment === 'CREATED' ||
            r.shipment === 'BOOKING' ||
            r.reservation === 'RESERVED' ||
            r.reservation === 'COMMITTED',
        )
        .map(
          (r) =>
            `${r.order_id} ${r.status}: net=${r.charged - r.refunded} charges=${r.charges} shipment=${r.shipment} reservation=${r.reservation}`,
        ),
    ),
  );

  const products = (await sql`select sku, available, reserved from inventory.products`) as unknown as Array<{
    sku: string;
    available: number;
    reserved: number;
  }>;
  const sold = new Map<string, number>();
  for (const row of completed)
    for (const item of row.items) sold.set(item.sku, (sold.get(item.sku) ?? 0) + item.quantity);
  const stockViolations: string[] = [];
  for (const product of products) {
    const start = startingStock.get(product.sku);
    if (start === undefined) continue;
    const units = sold.get(product.sku) ?? 0;
    if (product.available + units !== start || product.reserved !== 0 || product.available < 0) {
      stockViolations.push(
        `${product.sku}: start ${start} != available ${product.available} + sold ${units} (reserved ${product.reserved})`,
      );
    }
  }
  results.push(result(INVARIANTS.stock, startingStock.size, stockViolations));

  const keysPerOrder = new Map<string, string[]>();
  for (const order of accepted)
    keysPerOrder.set(order.orderId, [...(keysPerOrder.get(order.orderId) ?? []), order.key]);
  const acceptedIds = new Set(accepted.map((order) => order.orderId));
  const shared = [...keysPerOrder]
    .filter(([, keys]) => keys.length > 1)
    .map(([id, keys]) => `${id}: keys ${keys.join(',')}`);
  const untold = rows
    .filter((row) => !acceptedIds.has(row.order_id))
    .map((row) => `${row.order_id}: exists, client never told`);
  results.push(result(INVARIANTS.idempotency, accepted.length, [...shared, ...untold]));
  return results;
}

/** The API's side: no 5xx other than the retryable ones, over every request the client sent. */
export function no5xxResult(stats: ClientStats): InvariantResult {
  return result(
    INVARIANTS.no5xx,
    stats.requests,
    stats.unexpected5xx.map((e) => `${e.path} ${e.status} ${e.body}`),
  );
}

/** The overload phase's promise: every arrival got an answer, even a 503. */
export function overloadResult(arrivals: number, unanswered: string[]): InvariantResult {
  return result(INVARIANTS.overloadAnswered, arrivals, unanswered);
}

/** Markdown table of the results. */
export function invariantTable(results: InvariantResult[]): string {
  const lines = ['| invariant | checked | violations |', '|---|---:|---:|'];
  for (const row of results) lines.push(`| ${row.name} | ${row.checked} | ${row.violations.length} |`);
  return lines.join('\n');
}

/** Workflow ids of sagas still running once `graceMs` have passed (or none are left). */
async function runningSagas(temporal: Client, graceMs: number): Promise<string[]> {
  const query = 'WorkflowType="orderSaga" AND ExecutionStatus="Running"';
  const deadline = Date.now() + graceMs;
  while ((await temporal.workflow.count(query)).count > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const ids: string[] = [];
  for await (const execution of temporal.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}
