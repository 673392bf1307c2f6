/**
 * Activities of the shipping service: book a shipment with the carrier, or cancel it.
 *
 * A shipment row exists before the carrier is ever called: createShipment first commits a `BOOKING` row, then books
 * (idempotency key = order id), then turns the row `CREATED` only if it is still `BOOKING`. So a cancel that lands at
 * any moment finds the row, and wins: a booking that comes back after it is voided at the carrier.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { and, eq, inArray } from 'drizzle-orm';
import type { OrderRef } from '../contracts/inventory.js';
import {
  ADDRESS_UNDELIVERABLE,
  type CreateShipmentInput,
  type ShipmentResult,
  type ShippingActivities,
} from '../contracts/shipping.js';
import type { Database, Transaction } from '../db/client.js';
import { type SHIPMENT_STATUSES, shipments } from '../db/schema/shipping.js';
import { appendEvent } from '../events/outbox.js';
import { type ShippingCarrier, simulatedCarrier } from './providers/shipping-carrier.js';

/** What the shipping activities need. */
export interface ShippingActivityDeps {
  db: Database;
  /** The carrier to book with; the in-process simulated carrier unless given (tests pass their own). */
  carrier?: ShippingCarrier;
}

type StoredStatus = (typeof SHIPMENT_STATUSES)[number];

/** Builds the shipping activities on a database. */
export function createShippingActivities({
  db,
  carrier = simulatedCarrier,
}: ShippingActivityDeps): ShippingActivities {
  return {
    async createShipment({ orderId, address }: CreateShipmentInput): Promise<ShipmentResult> {
      const country = address.country.toUpperCase();
      // 1. Claim the order with a BOOKING row, committed before the carrier hears of it.
      const settled = await db.transaction(async (tx): Promise<ShipmentResult | null> => {
        const claimed = await tx
          .insert(shipments)
          .values({ orderId, status: 'BOOKING', country })
          .onConflictDoNothing({ target: shipments.orderId })
          .returning({ orderId: shipments.orderId });
        // Stryker disable next-line ConditionalExpression: a row just claimed reads back as BOOKING, which books alike
        if (claimed.length > 0) return null;
        const row = await readShipment(tx, orderId);
        // An earlier attempt died mid-booking: book again, the carrier answers the same key with the same booking.
        if (row.status === 'BOOKING') return null;
        // A retry after CREATED, or a CANCELLED row (a cancel came first, or won): nothing to book.
        return { orderId, status: row.status, trackingId: row.trackingId, changed: false };
      });
      if (settled) {
        // A CANCELLED row with a tracking id had a booking: an attempt that saw the cancel win may have died before
        // voiding it (the carrier's cancel is idempotent). Nothing is booked either way.
        if (settled.status === 'CANCELLED' && settled.trackingId !== null) {
          await carrier.cancel({ idempotencyKey: orderId });
        }
        log.info('create shipment', { orderId, status: settled.status, changed: false });
        return settled;
      }

      // 2. Book, outside any transaction: nothing is locked while the carrier answers.
      const booking = await carrier.book({ idempotencyKey: orderId, country });
      if (booking.outcome === 'undeliverable') {
        // CANCELLED without a tracking id: nothing exists, so the saga's cancelShipment compensation is a no-op.
        await db
          .update(shipments)
          .set({ status: 'CANCELLED', updatedAt: new Date() })
          .where(and(eq(shipments.orderId, orderId), eq(shipments.status, 'BOOKING')));
        log.warn('shipment undeliverable', { orderId });
        throw ApplicationFailure.create({
          type: ADDRESS_UNDELIVERABLE,
          nonRetryable: true,
          message: booking.reason,
        });
      }

      // 3. Record the booking, unless a cancel landed while the carrier was answering.
      const { trackingId } = booking;
      const result = await db.transaction(async (tx): Promise<ShipmentResult> => {
        const created = await tx
          .update(shipments)
          .set({ status: 'CREATED', trackingId, updatedAt: new Date() })
          .where(and(eq(shipments.orderId, orderId), eq(shipments.status, 'BOOKING')))
          .returning({ orderId: shipments.orderId });
        if (created.length > 0) {
          await appendEvent(tx, 'shipping', 'ShipmentCreated', orderId, { orderId, trackingId });
          return { orderId, status: 'CREATED', trackingId, changed: true };
        }
        const row = await readShipment(tx, orderId);
        // A parallel attempt recorded the same booking first.
        if (row.status === 'CREATED')
          return { orderId, status: 'CREATED', trackingId: row.trackingId, changed: false };
        // The cancel won. Keep the booking's tracking id on the row: it says a booking existed and must stay void.
        await tx
          .update(shipments)
          .set({ trackingId, updatedAt: new Date() })
          .where(and(eq(shipments.orderId, orderId), eq(shipments.status, 'CANCELLED')));
        return { orderId, status: 'CANCELLED', trackingId, changed: false };
      });
      if (result.status === 'CANCELLED') {
        await carrier.cancel({ idempotencyKey: orderId });
        log.warn('shipment cancelled while booking; booking voided at the carrier', { orderId });
      }
      log.info('create shipment', { orderId, status: result.status, changed: result.changed });
      return result;
    },

    async cancelShipment({ orderId }: OrderRef): Promise<ShipmentResult> {
      const { result, voidAtCarrier } = await db.transaction(async (tx) => {
        // No row: createShipment never reached the carrier. The tombstone makes a late createShipment book nothing.
        const tombstone = await tx
          .insert(shipments)
          .values({ orderId, status: 'CANCELLED' })
          .onConflictDoNothing({ target: shipments.orderId })
          .returning({ orderId: shipments.orderId });
        if (tombstone.length > 0) {
          await appendEvent(tx, 'shipping', 'ShipmentCancelled', orderId, { orderId, trackingId: null });
          return cancelOutcome(orderId, null, true, false);
        }
        // A BOOKING row is cancelled too: the carrier may hold its booking already, and if the booking comes back
        // later, its createShipment finds CANCELLED and voids it.
        const [cancelled] = await tx
          .update(shipments)
          .set({ status: 'CANCELLED', updatedAt: new Date() })
          .where(and(eq(shipments.orderId, orderId), inArray(shipments.status, ['BOOKING', 'CREATED'])))
          .returning({ trackingId: shipments.trackingId });
        if (cancelled) {
          const { trackingId } = cancelled;
          await appendEvent(tx, 'shipping', 'ShipmentCancelled', orderId, { orderId, trackingId });
          return cancelOutcome(orderId, trackingId, true, true);
        }
        // Already CANCELLED. With a tracking id a booking existed: tell the carrier again (its cancel is idempotent),
        // in case the attempt that cancelled it committed and died before reaching the carrier.
        const current = await readShipment(tx, orderId);
        // Stryker disable next-line ConditionalExpression: the update above took BOOKING and CREATED; a guard
        if (current.status !== 'CANCELLED')
          throw new Error(`shipment of order ${orderId} is ${current.status}`);
        return cancelOutcome(orderId, current.trackingId, false, current.trackingId !== null);
      });
      // After the commit, so a booking that lands meanwhile finds the row CANCELLED.
      if (voidAtCarrier) await carrier.cancel({ idempotencyKey: orderId });
      log.info('cancel shipment', { orderId, status: result.status, changed: result.changed });
      return result;
    },
  };
}

function cancelOutcome(orderId: string, trackingId: string | null, changed: boolean, voidAtCarrier: boolean) {
  const result: ShipmentResult = { orderId, status: 'CANCELLED', trackingId, changed };
  return { result, voidAtCarrier };
}

async function readShipment(
  tx: Transaction,
  orderId: string,
): Promise<{ status: StoredStatus; trackingId: string | null }> {
  const [row] = await tx
    .select({ status: shipments.status, trackingId: shipments.trackingId })
    .from(shipments)
    .where(eq(shipments.orderId, orderId));
  // Stryker disable next-line ConditionalExpression: rows are never deleted, so a conflicting row reads back (a guard)
  if (!row) throw new Error(`shipment of order ${orderId} conflicted but cannot be read back`);
  return row;
}
