/** Activities of the shipping service: book a shipment with the carrier, or cancel it. */
import { ApplicationFailure, log } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import type { OrderRef } from '../contracts/inventory.js';
import {
  ADDRESS_UNDELIVERABLE,
  type CreateShipmentInput,
  type ShipmentResult,
  type ShippingActivities,
} from '../contracts/shipping.js';
import type { Database, Transaction } from '../db/client.js';
import { shipments } from '../db/schema/shipping.js';
import { requestBooking } from './providers/shipping-carrier.js';

/** What the shipping activities need. */
export interface ShippingActivityDeps {
  db: Database;
}

/** Builds the shipping activities on a database. */
export function createShippingActivities({ db }: ShippingActivityDeps): ShippingActivities {
  return {
    async createShipment({ orderId, address }: CreateShipmentInput): Promise<ShipmentResult> {
      const country = address.country.toUpperCase();
      const result = await db.transaction(async (tx): Promise<ShipmentResult> => {
        // A retry returns the existing shipment; a CANCELLED tombstone means a cancel came first: book nothing.
        const [current] = await tx
          .select({ orderId: shipments.orderId })
          .from(shipments)
          .where(eq(shipments.orderId, orderId))
          .for('update');
        if (current) return { ...(await readShipment(tx, orderId)), changed: false };
        const booking = requestBooking({ idempotencyKey: orderId, country });
        if (booking.outcome === 'undeliverable') {
          log.warn('shipment undeliverable', { orderId });
          throw ApplicationFailure.create({
            type: ADDRESS_UNDELIVERABLE,
            nonRetryable: true,
            message: booking.reason,
          });
        }
        const inserted = await tx
          .insert(shipments)
          .values({ orderId, status: 'CREATED', trackingId: booking.trackingId, country })
          .onConflictDoNothing({ target: shipments.orderId })
          .returning({ trackingId: shipments.trackingId });
        if (inserted.length > 0)
          return { orderId, status: 'CREATED', trackingId: booking.trackingId, changed: true };
        return { ...(await readShipment(tx, orderId)), changed: false };
      });
      log.info('create shipment', { orderId, status: result.status, changed: result.changed });
      return result;
    },

    async cancelShipment({ orderId }: OrderRef): Promise<ShipmentResult> {
      const result = await db.transaction(async (tx): Promise<ShipmentResult> => {
        const tombstone = await tx
          .insert(shipments)
          .values({ orderId, status: 'CANCELLED' })
          .onConflictDoNothing({ target: shipments.orderId })
          .returning({ orderId: shipments.orderId });
        if (tombstone.length > 0) return { orderId, status: 'CANCELLED', trackingId: null, changed: true };
        const cancelled = await tx
          .update(shipments)
          .set({ status: 'CANCELLED', updatedAt: new Date() })
          .where(and(eq(shipments.orderId, orderId), eq(shipments.status, 'CREATED')))
          .returning({ trackingId: shipments.trackingId });
        const row = cancelled[0];
        if (row) return { orderId, status: 'CANCELLED', trackingId: row.trackingId, changed: true };
        return { ...(await readShipment(tx, orderId)), changed: false };
      });
      log.info('cancel shipment', { orderId, status: result.status, changed: result.changed });
      return result;
    },
  };
}

async function readShipment(tx: Transaction, orderId: string): Promise<Omit<ShipmentResult, 'changed'>> {
  const [row] = await tx
    .select({ status: shipments.status, trackingId: shipments.trackingId })
    .from(shipments)
    .where(eq(shipments.orderId, orderId));
  if (!row) throw new Error(`shipment of order ${orderId} conflicted but cannot be read back`);
  return { orderId, status: row.status, trackingId: row.trackingId };
}
