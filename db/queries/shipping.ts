/** Reads of the shipping service's table (`shipping.shipments`) for the graph: each order's shipment, batched. */
import { inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type SHIPMENT_STATUSES, shipments } from '../schema/shipping.js';

/** One order's shipment; `NONE` when no shipment was ever asked for. */
export interface ShipmentRecord {
  status: 'NONE' | (typeof SHIPMENT_STATUSES)[number];
  trackingId: string | null;
  country: string | null;
  updatedAt: string | null;
}

/** What an order with no shipment row has. */
export const NO_SHIPMENT: ShipmentRecord = {
  status: 'NONE',
  trackingId: null,
  country: null,
  updatedAt: null,
};

/** The shipment of each of `orderIds`, in one query; orders with no row get {@link NO_SHIPMENT}. */
export async function readShipments(
  db: Database,
  orderIds: readonly string[],
): Promise<Map<string, ShipmentRecord>> {
  const found = new Map<string, ShipmentRecord>(orderIds.map((id) => [id, NO_SHIPMENT]));
  if (found.size === 0) return found;
  const rows = await db
    .select()
    .from(shipments)
    .where(inArray(shipments.orderId, [...found.keys()]));
  for (const row of rows) {
    found.set(row.orderId, {
      status: row.status,
      trackingId: row.trackingId,
      country: row.country,
      updatedAt: row.updatedAt.toISOString(),
    });
  }
  return found;
}
