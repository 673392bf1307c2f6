/** Activities of the inventory service: reserve all items or none, then release or commit the reservation. */
import { ApplicationFailure, log } from '@temporalio/activity';
import { and, eq, gte, sql } from 'drizzle-orm';
import type { EventName } from '../contracts/events.js';
import {
  type InventoryActivities,
  type OrderRef,
  OUT_OF_STOCK,
  RESERVATION_NOT_FOUND,
  type ReservationResult,
  type ReservationStatus,
  type ReserveStockInput,
  type StockLine,
  UNKNOWN_SKU,
} from '../contracts/inventory.js';
import type { Database, Transaction } from '../db/client.js';
import { products, reservationItems, reservations } from '../db/schema/inventory.js';
import { appendEvent } from '../events/outbox.js';

/** Failure type for a malformed request (empty items, bad quantity): a bug upstream, retrying cannot help. */
export const INVALID_STOCK_REQUEST = 'InvalidStockRequest';

/** What the inventory activities need. */
export interface InventoryActivityDeps {
  db: Database;
}

/** Builds the inventory activities on a database. */
export function createInventoryActivities({ db }: InventoryActivityDeps): InventoryActivities {
  return {
    async reserveStock(input: ReserveStockInput): Promise<ReservationResult> {
      const lines = aggregateLines(input);
      const result = await db.transaction(async (tx) => {
        const claimed = await tx
          .insert(reservations)
          .values({ orderId: input.orderId, status: 'RESERVED' })
          .onConflictDoNothing({ target: reservations.orderId })
          .returning({ orderId: reservations.orderId });
        if (claimed.length === 0) {
          // A retry, or a release that came first and left a RELEASED tombstone: either way, take nothing.
          return outcome(input.orderId, await currentStatus(tx, input.orderId), false);
        }
        // Lock order (see compareSkus): two orders sharing SKUs lock rows in the same order and cannot deadlock.
        for (const line of lines) {
          const taken = await tx
            .update(products)
            .set({
              available: sql`${products.available} - ${line.quantity}`,
              reserved: sql`${products.reserved} + ${line.quantity}`,
              updatedAt: new Date(),
            })
            .where(and(eq(products.sku, line.sku), gte(products.available, line.quantity)))
            .returning({ sku: products.sku });
          // Throwing rolls back the reservation row and every line taken so far: all items or none.
          if (taken.length === 0) throw await stockFailure(tx, input.orderId, line);
        }
        await tx.insert(reservationItems).values(lines.map((line) => ({ orderId: input.orderId, ...line })));
        await appendStockEvent(tx, 'StockReserved', input.orderId, lines);
        return outcome(input.orderId, 'RESERVED', true);
      });
      log.info('reserve stock', { orderId: input.orderId, status: result.status, changed: result.changed });
      return result;
    },

    async releaseStock(input: OrderRef): Promise<ReservationResult> {
      const result = await db.transaction(async (tx) => {
        const tombstone = await tx
          .insert(reservations)
          .values({ orderId: input.orderId, status: 'RELEASED' })
          .onConflictDoNothing({ target: reservations.orderId })
          .returning({ orderId: reservations.orderId });
        // No reservation existed: the tombstone makes a late reserveStock take nothing (nothing to give back).
        if (tombstone.length > 0) {
          await appendStockEvent(tx, 'StockReleased', input.orderId, []);
          return outcome(input.orderId, 'RELEASED', true);
        }
        // The conditional update is the guard: of two concurrent releases only one sees RESERVED.
        const released = await tx
          .update(reservations)
          .set({ status: 'RELEASED', updatedAt: new Date() })
          .where(and(eq(reservations.orderId, input.orderId), eq(reservations.status, 'RESERVED')))
          .returning({ orderId: reservations.orderId });
        if (released.length === 0)
          return outcome(input.orderId, await currentStatus(tx, input.orderId), false);
        const held = await heldLines(tx, input.orderId);
        for (const line of held) {
          await tx
            .update(products)
            .set({
              available: sql`${products.available} + ${line.quantity}`,
              reserved: sql`${products.reserved} - ${line.quantity}`,
              updatedAt: new Date(),
            })
            .where(eq(products.sku, line.sku));
        }
        await appendStockEvent(tx, 'StockReleased', input.orderId, held);
        return outcome(input.orderId, 'RELEASED', true);
      });
      log.info('release stock', { orderId: input.orderId, status: result.status, changed: result.changed });
      return result;
    },

    async commitStock(input: OrderRef): Promise<ReservationResult> {
      const result = await db.transaction(async (tx) => {
        const committed = await tx
          .update(reservations)
          .set({ status: 'COMMITTED', updatedAt: new Date() })
          .where(and(eq(reservations.orderId, input.orderId), eq(reservations.status, 'RESERVED')))
          .returning({ orderId: reservations.orderId });
        if (committed.length === 0) {
          const status = await currentStatus(tx, input.orderId);
          if (status === 'COMMITTED') return outcome(input.orderId, 'COMMITTED', false);
          throw ApplicationFailure.create({
            type: RESERVATION_NOT_FOUND,
            nonRetryable: true,
            message: `order ${input.orderId} has no active reservation to commit (${status ?? 'none'})`,
          });
        }
        // The units leave the warehouse: they stop being reserved and never come back to available.
        const held = await heldLines(tx, input.orderId);
        for (const line of held) {
          await tx
            .update(products)
            .set({ reserved: sql`${products.reserved} - ${line.quantity}`, updatedAt: new Date() })
            .where(eq(products.sku, line.sku));
        }
        await appendStockEvent(tx, 'StockCommitted', input.orderId, held);
        return outcome(input.orderId, 'COMMITTED', true);
      });
      log.info('commit stock', { orderId: input.orderId, status: result.status, changed: result.changed });
      return result;
    },
  };
}

/** Sums duplicate SKUs and puts them in lock order; rejects requests no retry could ever satisfy. */
function aggregateLines(input: ReserveStockInput): StockLine[] {
  if (input.items.length === 0) throw invalid(`order ${input.orderId}: nothing to reserve`);
  const totals = new Map<string, number>();
  for (const { sku, quantity } of input.items) {
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw invalid(`order ${input.orderId}: quantity of ${sku} must be a positive integer, got ${quantity}`);
    }
    totals.set(sku, (totals.get(sku) ?? 0) + quantity);
  }
  return inLockOrder([...totals.entries()].map(([sku, quantity]) => ({ sku, quantity })));
}

/**
 * The one order in which every inventory activity locks product rows: UTF-8 byte order of the SKU, the order of
 * Postgres's "C" collation. Neither `localeCompare` nor the database's default collation (en_US, ICU: 'a-1' before
 * 'B-1') nor JavaScript's `<` (UTF-16 code units: an emoji before 'Ａ') agree with it, and two transactions that
 * lock shared rows in different orders can deadlock.
 */
export function compareSkus(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A copy of `lines` sorted in lock order ({@link compareSkus}); reserve, release and commit all lock through it. */
export function inLockOrder<T extends { sku: string }>(lines: readonly T[]): T[] {
  return [...lines].sort((a, b) => compareSkus(a.sku, b.sku));
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_STOCK_REQUEST, nonRetryable: true, message });
}

/** The business failure for a line that could not be taken: unknown SKU or not enough stock. */
async function stockFailure(tx: Transaction, orderId: string, line: StockLine): Promise<ApplicationFailure> {
  const [product] = await tx
    .select({ available: products.available })
    .from(products)
    .where(eq(products.sku, line.sku));
  if (!product) {
    return ApplicationFailure.create({
      type: UNKNOWN_SKU,
      nonRetryable: true,
      message: `unknown SKU ${line.sku} (order ${orderId} requested ${line.quantity})`,
      details: [{ sku: line.sku, requested: line.quantity }],
    });
  }
  return ApplicationFailure.create({
    type: OUT_OF_STOCK,
    nonRetryable: true,
    message: `out of stock: SKU ${line.sku} requested ${line.quantity}, available ${product.available}`,
    details: [{ sku: line.sku, requested: line.quantity, available: product.available }],
  });
}

async function currentStatus(tx: Transaction, orderId: string): Promise<ReservationStatus | null> {
  const [row] = await tx
    .select({ status: reservations.status })
    .from(reservations)
    .where(eq(reservations.orderId, orderId));
  return row?.status ?? null;
}

/** The lines a reservation holds, in lock order (the same order reserveStock took them in). */
async function heldLines(tx: Transaction, orderId: string): Promise<StockLine[]> {
  const rows = await tx
    .select({ sku: reservationItems.sku, quantity: reservationItems.quantity })
    .from(reservationItems)
    .where(eq(reservationItems.orderId, orderId))
    // "C" is byte order whatever the database's collation; the JS sort makes the order not depend on it at all.
    .orderBy(sql`${reservationItems.sku} collate "C"`);
  return inLockOrder(rows);
}

/** Records a change of an order's held stock, with the lines it moved, in the transaction that moved them. */
async function appendStockEvent(
  tx: Transaction,
  name: EventName<'inventory'>,
  orderId: string,
  lines: readonly StockLine[],
): Promise<void> {
  await appendEvent(tx, 'inventory', name, orderId, {
    orderId,
    items: lines.map(({ sku, quantity }) => ({ sku, quantity })),
  });
}

function outcome(orderId: string, status: ReservationStatus | null, changed: boolean): ReservationResult {
  // Unreachable in practice: every branch that reads the status has just seen the row exist.
  if (status === null) throw new Error(`reservation of order ${orderId} vanished mid-transaction`);
  return { orderId, status, changed };
}
