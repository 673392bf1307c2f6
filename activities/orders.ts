/** Activities of the orders service: the order row and its status, written in saga order. */
import { log } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import {
  ANONYMOUS_CLIENT_ID,
  type CreateOrderRecordInput,
  type OrderStatus,
  type OrdersActivities,
  type SetOrderStatusInput,
  supersedes,
} from '../contracts/orders.js';
import { type OrderOutcome, recordSagaEvent } from '../core/saga-events.js';
import type { Database, Transaction } from '../db/client.js';
import { orders } from '../db/schema/orders.js';
import { appendEvent } from '../events/outbox.js';

/** Metric label of a failure without a usable code (sagas started before codes were passed, or an odd one). */
export const OTHER_FAILURE = 'other';

/** Shape of the failure codes the saga passes (ApplicationFailure types, error names): bounded metric labels. */
const FAILURE_CODE = /^[A-Za-z][A-Za-z0-9]{0,47}$/;

/** The `reason` label for a failed order: the code the saga passed, or `other`. */
export function failureLabel(code: string | null | undefined): string {
  return code && FAILURE_CODE.test(code) ? code : OTHER_FAILURE;
}

/** Outcome of each terminal status; other statuses end nothing. */
const OUTCOME_OF: Partial<Record<OrderStatus, OrderOutcome>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

/**
 * Inserts the order's row unless one exists (the first write wins and keeps any later status), with its
 * OrderPlaced event; true if it did.
 */
async function insertOrderRow(
  tx: Transaction,
  record: CreateOrderRecordInput,
  state: Partial<typeof orders.$inferInsert> = {},
): Promise<boolean> {
  const inserted = await tx
    .insert(orders)
    .values({
      orderId: record.orderId,
      customerId: record.customerId,
      clientId: record.clientId ?? ANONYMOUS_CLIENT_ID,
      items: record.items,
      totalCents: record.totalCents,
      requestHash: record.requestHash ?? null,
      status: 'PENDING',
      statusSeq: 0,
      createdAt: new Date(record.createdAt),
      updatedAt: new Date(record.createdAt),
      ...state,
    })
    // The primary key is the table's only unique constraint: without the target (a surviving mutant) it is the same.
    .onConflictDoNothing({ target: orders.orderId })
    .returning({ orderId: orders.orderId });
  if (inserted.length === 0) return false;
  await appendEvent(tx, 'orders', 'OrderPlaced', record.orderId, {
    orderId: record.orderId,
    customerId: record.customerId,
    clientId: record.clientId ?? ANONYMOUS_CLIENT_ID,
    items: record.items.map(({ sku, quantity, unitPriceCents }) => ({ sku, quantity, unitPriceCents })),
    totalCents: record.totalCents,
  });
  return true;
}

/** Inserts the row from the write's view when none exists; true when this write created it. */
function createFromView(
  tx: Transaction,
  input: SetOrderStatusInput,
  view: NonNullable<SetOrderStatusInput['view']>,
  changes: Partial<typeof orders.$inferInsert>,
): Promise<boolean> {
  const { customerId, items, totalCents, createdAt } = view;
  const requestHash = input.firstWrite?.requestHash;
  const record = {
    orderId: input.orderId,
    customerId,
    items,
    totalCents,
    createdAt,
    ...(input.clientId ? { clientId: input.clientId } : {}),
    ...(requestHash ? { requestHash } : {}),
  };
  return insertOrderRow(tx, record, changes);
}

/** `reason` of an OrderFailed whose saga passed none. */
export const NO_FAILURE_REASON = 'no reason recorded';

/** The events of an applied status write: the change itself, and the order's end when the status is terminal. */
async function appendStatusEvents(
  tx: Transaction,
  input: SetOrderStatusInput,
  previousStatus: OrderStatus | null,
  totalCents: number,
): Promise<void> {
  const { orderId, status } = input;
  await appendEvent(tx, 'orders', 'OrderStatusChanged', orderId, { orderId, status, previousStatus });
  switch (status) {
    case 'COMPLETED':
      await appendEvent(tx, 'orders', 'OrderCompleted', orderId, { orderId, totalCents });
      return;
    case 'FAILED':
      await appendEvent(tx, 'orders', 'OrderFailed', orderId, {
        orderId,
        failureCode: input.failureCode || null,
        reason: input.failureReason ?? NO_FAILURE_REASON,
      });
      return;
    case 'CANCELLED':
      await appendEvent(tx, 'orders', 'OrderCancelled', orderId, { orderId });
      return;
    // Stryker disable next-line ConditionalExpression: the default case only returns, as the switch's end does.
    default:
      // Not an end (COMPENSATION_FAILED waits for an operator).
      return;
  }
}

/** What a status write did: moved the order, created its row, found nothing to change, or found no row. */
type StatusWrite =
  | { applied: true; createdAt: Date; createdRow: boolean }
  | { applied: false; current: { status: OrderStatus; statusSeq: number } | null };

/** Metrics of a status write that changed the row: an order's end, or a compensation that needs an operator. */
function recordStatusEvents(input: SetOrderStatusInput, createdAt: Date): void {
  if (input.status === 'COMPENSATION_FAILED') {
    recordSagaEvent({ kind: 'compensationStuck', orderId: input.orderId });
    return;
  }
  const outcome = OUTCOME_OF[input.status];
  if (!outcome) return;
  recordSagaEvent({
    kind: 'orderFinished',
    orderId: input.orderId,
    outcome,
    reason: outcome === 'failed' ? failureLabel(input.failureCode) : null,
    durationSeconds: Math.max(0, (Date.now() - createdAt.getTime()) / 1000),
  });
}

/** What the orders activities need. */
export interface OrdersActivityDeps {
  db: Database;
}

/** Builds the orders activities on a database. */
export function createOrdersActivities({ db }: OrdersActivityDeps): OrdersActivities {
  return {
    async createOrderRecord(input: CreateOrderRecordInput): Promise<void> {
      // The saga may retry this after a crash; the first row wins and keeps any later status.
      const created = await db.transaction((tx) => insertOrderRow(tx, input));
      // Only the insert that created the row counts the order as started: a retry inserts nothing.
      if (created) recordSagaEvent({ kind: 'orderStarted', orderId: input.orderId });
      log.info('order record written', { orderId: input.orderId, changed: created });
    },

    async setOrderStatus(input: SetOrderStatusInput): Promise<void> {
      const now = new Date();
      const changes = {
        status: input.status,
        statusSeq: input.seq,
        failureReason: input.failureReason ?? null,
        // Stryker disable next-line ConditionalExpression: drizzle leaves a column set to undefined out of the update.
        ...(input.failureCode !== undefined ? { failureCode: input.failureCode } : {}),
        // Sagas started before views were recorded send none; their rows keep the last view they had.
        ...(input.view ? { view: input.view } : {}),
        updatedAt: now,
      };
      const write = await db.transaction(async (tx): Promise<StatusWrite> => {
        // Locked, so the status it read is the one this write replaces (the event's previousStatus).
        const [current] = await tx
          .select({ status: orders.status, statusSeq: orders.statusSeq })
          .from(orders)
          .where(eq(orders.orderId, input.orderId))
          .for('update');
        if (!current) {
          // A first write that failed for good leaves no row: a write carrying the whole view creates it instead.
          if (!input.view || !(await createFromView(tx, input, input.view, changes)))
            // Stryker disable next-line ObjectLiteral: an empty result has no `current` either, and is read the same.
            return { applied: false, current: null };
          // The saga's first write records the order: it was PENDING until now. Otherwise no row had existed.
          await appendStatusEvents(tx, input, input.firstWrite ? 'PENDING' : null, input.view.totalCents);
          return { applied: true, createdAt: new Date(input.view.createdAt), createdRow: true };
        }
        // A retry delivered after a newer status must not move the order back (the row is locked, so this holds).
        if (!supersedes(current, input)) return { applied: false, current };
        const [row] = await tx
          .update(orders)
          .set(changes)
          .where(eq(orders.orderId, input.orderId))
          .returning({ createdAt: orders.createdAt, totalCents: orders.totalCents });
        // Stryker disable next-line all: unreachable, the row is locked since it was read (the guard is for the type).
        if (!row) return { applied: false, current };
        await appendStatusEvents(tx, input, current.status, row.totalCents);
        return { applied: true, createdAt: row.createdAt, createdRow: false };
      });
      if (write.applied) {
        // An order recorded by its first status write starts here (a retry of that write creates nothing).
        if (write.createdRow && input.firstWrite)
          recordSagaEvent({ kind: 'orderStarted', orderId: input.orderId });
        // The one write that made the order terminal: a repeated or stale write updates nothing.
        recordStatusEvents(input, write.createdAt);
        log.info(write.createdRow ? 'order record created by its status write' : 'order status set', {
          orderId: input.orderId,
          status: input.status,
          seq: input.seq,
        });
        return;
      }
      if (!write.current) {
        // Retryable on purpose: the row may be written by a createOrderRecord still in flight.
        throw new Error(`order ${input.orderId} does not exist yet; cannot set status ${input.status}`);
      }
      log.info('order status unchanged (stale or repeated write)', {
        orderId: input.orderId,
        status: input.status,
        seq: input.seq,
        currentStatus: write.current.status,
        currentSeq: write.current.statusSeq,
      });
    },
  };
}
