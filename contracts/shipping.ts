/** Contract of the shipping service: shipments created and cancelled per order. */

import type { OrderRef } from './inventory.js';
import type { ShippingAddress } from './orders.js';

/** Task queue polled by the shipping worker. */
export const SHIPPING_QUEUE = 'shipping';

/** Business failure: the carrier cannot deliver to this address. */
export const ADDRESS_UNDELIVERABLE = 'AddressUndeliverable';
/** Country code the simulated carrier refuses (see DESIGN.md). */
export const UNDELIVERABLE_COUNTRY = 'XX';

export interface CreateShipmentInput {
  orderId: string;
  address: ShippingAddress;
}

/**
 * Status of a shipment as the saga sees it. `CANCELLED` from createShipment: a cancel came first or landed while the
 * carrier was booking, and won (nothing ships). The shipping service's own `BOOKING` row state (committed before the
 * carrier is called) never leaves its activities.
 */
export type ShipmentRecordStatus = 'CREATED' | 'CANCELLED';

export interface ShipmentResult {
  orderId: string;
  status: ShipmentRecordStatus;
  trackingId: string | null;
  changed: boolean;
}

/** Activities of the shipping service (queue {@link SHIPPING_QUEUE}). */
export interface ShippingActivities {
  createShipment(input: CreateShipmentInput): Promise<ShipmentResult>;
  cancelShipment(input: OrderRef): Promise<ShipmentResult>;
}
