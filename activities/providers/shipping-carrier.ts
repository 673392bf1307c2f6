/** Simulated carrier: refuses one country (see DESIGN.md), otherwise books deterministically by order id. */
import { createHash } from 'node:crypto';
import { UNDELIVERABLE_COUNTRY } from '../../contracts/shipping.js';

/** A booking request; only the country matters to the simulated carrier. */
export interface CarrierBookingRequest {
  /** The order id, used by the carrier as idempotency key. */
  idempotencyKey: string;
  country: string;
}

/** The carrier's answer: booked with a tracking id, or undeliverable for good. */
export type CarrierBookingOutcome =
  | { outcome: 'booked'; trackingId: string }
  | { outcome: 'undeliverable'; reason: string };

/** Decides a booking the way a real carrier would answer it, without any I/O. */
export function requestBooking(request: CarrierBookingRequest): CarrierBookingOutcome {
  if (request.country.toUpperCase() === UNDELIVERABLE_COUNTRY) {
    return {
      outcome: 'undeliverable',
      reason: `carrier does not deliver to country ${UNDELIVERABLE_COUNTRY}`,
    };
  }
  return { outcome: 'booked', trackingId: trackingIdFor(request.idempotencyKey) };
}

/** Tracking id of the shipment booked for an idempotency key (same key, same tracking id). */
export function trackingIdFor(idempotencyKey: string): string {
  const hex = createHash('sha256').update(`shipment:${idempotencyKey}`).digest('hex');
  return `TRK${hex.slice(0, 12).toUpperCase()}`;
}
