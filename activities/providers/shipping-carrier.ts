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

/** A cancellation of whatever the carrier booked under an idempotency key. */
export interface CarrierCancelRequest {
  idempotencyKey: string;
}

/** The carrier's answer to a cancel: whatever was booked under the key (if anything) is void. */
export interface CarrierCancelOutcome {
  outcome: 'cancelled';
}

/**
 * What the shipping activities need from a carrier. Both calls are idempotent by key, as a real carrier's API is: the
 * same key books the same shipment (same tracking id), and cancelling twice or cancelling nothing is harmless.
 */
export interface ShippingCarrier {
  book(request: CarrierBookingRequest): Promise<CarrierBookingOutcome>;
  cancel(request: CarrierCancelRequest): Promise<CarrierCancelOutcome>;
}

/** The simulated carrier, with how often it was called so far (tests read the counts). */
export interface SimulatedCarrier extends ShippingCarrier {
  readonly calls: { book: number; cancel: number };
}

/**
 * A fresh simulated carrier. It keeps no bookings (its answers depend on the request alone, so a long-running worker
 * does not grow), only call counts.
 */
export function createSimulatedCarrier(): SimulatedCarrier {
  const calls = { book: 0, cancel: 0 };
  return {
    calls,
    async book(request) {
      calls.book += 1;
      return requestBooking(request);
    },
    async cancel() {
      calls.cancel += 1;
      return { outcome: 'cancelled' };
    },
  };
}

/** The carrier the shipping worker talks to unless told otherwise. */
export const simulatedCarrier: SimulatedCarrier = createSimulatedCarrier();

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
