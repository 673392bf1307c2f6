/**
 * Shipping activities against a real database: one shipment per order, cancel tombstones, no addresses kept, and a
 * BOOKING row committed before the carrier is called, so a cancel landing mid-booking wins.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CarrierBookingRequest,
  type CarrierCancelRequest,
  createSimulatedCarrier,
  type ShippingCarrier,
  trackingIdFor,
} from '../../activities/providers/shipping-carrier.js';
import { createShippingActivities } from '../../activities/shipping.js';
import type { ShippingAddress } from '../../contracts/orders.js';
import { ADDRESS_UNDELIVERABLE, UNDELIVERABLE_COUNTRY } from '../../contracts/shipping.js';
import type { Database } from '../../db/client.js';
import { shipments } from '../../db/schema/shipping.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { expectBusinessFailure, RecordingLogger, runActivity, uniqueId } from './helpers.js';

/** The simulated carrier, with its calls counted, and able to hold the next booking or fail it once. */
function testCarrier() {
  const inner = createSimulatedCarrier();
  let held: { reached: () => void; released: Promise<void> } | undefined;
  let failNext: Error | undefined;
  const booked: CarrierBookingRequest[] = [];
  const cancelled: string[] = [];
  const carrier = {
    calls: inner.calls,
    booked,
    /** The idempotency keys the carrier was told to cancel, in order. */
    cancelled,
    /** Holds the next booking until `release()`; `reached` resolves once the carrier has been called. */
    holdNextBooking() {
      let reached = () => {};
      let release = () => {};
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      held = { reached, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedPromise, release };
    },
    /** The next booking fails with `error` after reaching the carrier (a timeout: maybe booked, maybe not). */
    failNextBooking(error: Error) {
      failNext = error;
    },
    async book(request: CarrierBookingRequest) {
      booked.push(request);
      const gate = held;
      held = undefined;
      if (gate) {
        gate.reached();
        await gate.released;
      }
      const outcome = await inner.book(request);
      const error = failNext;
      failNext = undefined;
      if (error) throw error;
      return outcome;
    },
    async cancel(request: CarrierCancelRequest) {
      cancelled.push(request.idempotencyKey);
      return inner.cancel(request);
    },
  } satisfies ShippingCarrier & Record<string, unknown>;
  return carrier;
}

/** Rejects when `promise` takes longer than `ms` (a step that blocks forever fails the test with a reason). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const address: ShippingAddress = {
  name: 'Ada Lovelace',
  line1: '12 Analytical Engine Street',
  city: 'London',
  postalCode: 'NW1 2DB',
  country: 'GB',
};

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`shipping activities (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;
    let shipping: ReturnType<typeof createShippingActivities>;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
      shipping = createShippingActivities({ db });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const rowsOf = (orderId: string) => db.select().from(shipments).where(eq(shipments.orderId, orderId));

    it('creates one shipment when called twice, with a stable tracking id', async () => {
      const orderId = uniqueId('order');
      const first = await runActivity(shipping.createShipment, { orderId, address });
      const second = await runActivity(shipping.createShipment, { orderId, address });

      expect(first).toMatchObject({ orderId, status: 'CREATED', changed: true });
      expect(first.trackingId).toMatch(/^TRK[0-9A-F]{12}$/);
      expect(second).toEqual({ ...first, changed: false });
      const rows = await rowsOf(orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'CREATED', trackingId: first.trackingId, country: 'GB' });
    });

    it('keeps and logs no part of the address but the country', async () => {
      const orderId = uniqueId('order');
      const logger = new RecordingLogger();
      await runActivity(shipping.createShipment, { orderId, address }, { logger });
      const stored = JSON.stringify(await rowsOf(orderId));
      const logged = JSON.stringify(logger.entries);
      expect(logger.entries.length).toBeGreaterThan(0);
      for (const secret of [address.name, address.line1, address.city, address.postalCode]) {
        expect(stored).not.toContain(secret);
        expect(logged).not.toContain(secret);
      }
    });

    it('fails an undeliverable country as a non-retryable business failure, leaving a row cancel finds done', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      await expectBusinessFailure(
        runActivity(activities.createShipment, {
          orderId,
          address: { ...address, country: UNDELIVERABLE_COUNTRY },
        }),
        ADDRESS_UNDELIVERABLE,
      );
      expect(await rowsOf(orderId)).toMatchObject([{ status: 'CANCELLED', trackingId: null }]);

      // The saga's compensation then finds nothing to undo, at the carrier either.
      const cancelled = await runActivity(activities.cancelShipment, { orderId });
      expect(cancelled).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: false });
      expect(carrier.calls).toEqual({ book: 1, cancel: 0 });
      // A late create books nothing either.
      const late = await runActivity(activities.createShipment, { orderId, address });
      expect(late).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: false });
      expect(carrier.calls).toEqual({ book: 1, cancel: 0 });
    });

    it('cancels once when called twice, telling the carrier again (its cancel is idempotent)', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      const created = await runActivity(activities.createShipment, { orderId, address });

      const first = await runActivity(activities.cancelShipment, { orderId });
      const second = await runActivity(activities.cancelShipment, { orderId });

      expect(first).toEqual({ orderId, status: 'CANCELLED', trackingId: created.trackingId, changed: true });
      expect(second).toEqual({ ...first, changed: false });
      expect((await rowsOf(orderId)).map((row) => row.status)).toEqual(['CANCELLED']);
      // The attempt that cancelled may have died after its commit, before reaching the carrier: the retry tells it.
      expect(carrier.calls).toEqual({ book: 1, cancel: 2 });
      expect(carrier.cancelled).toEqual([orderId, orderId]);
    });

    it('leaves a tombstone when cancel comes first, so a late create makes nothing', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });

      const cancelled = await runActivity(activities.cancelShipment, { orderId });
      const created = await runActivity(activities.createShipment, { orderId, address });
      // Nothing was ever booked: the carrier hears of neither.
      expect(carrier.calls).toEqual({ book: 0, cancel: 0 });

      expect(cancelled).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: true });
      expect(created).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: false });
      const rows = await rowsOf(orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'CANCELLED', trackingId: null });
    });

    it('voids the booking again when a create is retried after its cancel won (the attempt may have died first)', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      // What an attempt that saw the cancel win leaves when it dies before voiding: CANCELLED with the booking's id.
      await db
        .insert(shipments)
        .values({ orderId, status: 'CANCELLED', country: 'GB', trackingId: 'trk_left_behind' });

      const retried = await runActivity(activities.createShipment, { orderId, address });

      expect(retried).toEqual({
        orderId,
        status: 'CANCELLED',
        trackingId: 'trk_left_behind',
        changed: false,
      });
      expect(carrier.calls).toEqual({ book: 0, cancel: 1 });
      expect(carrier.cancelled).toEqual([orderId]);
    });

    /** Starts a createShipment whose carrier call is held open, and waits until the carrier has been reached. */
    async function startHeldBooking() {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      const gate = carrier.holdNextBooking();
      const creating = runActivity(activities.createShipment, { orderId, address });
      await within(gate.reached, 10_000, 'the carrier call');
      return { orderId, carrier, activities, gate, creating };
    }

    it('commits a BOOKING row before calling the carrier, and turns it CREATED after', async () => {
      const { orderId, carrier, gate, creating } = await startHeldBooking();
      // Read on another connection while the carrier is answering: the row is already committed.
      expect(await within(rowsOf(orderId), 5_000, 'reading the shipment mid-booking')).toMatchObject([
        { status: 'BOOKING', trackingId: null, country: 'GB' },
      ]);
      gate.release();

      const created = await creating;
      expect(created).toEqual({
        orderId,
        status: 'CREATED',
        trackingId: trackingIdFor(orderId),
        changed: true,
      });
      expect(carrier.booked).toEqual([{ idempotencyKey: orderId, country: 'GB' }]);
      expect(await rowsOf(orderId)).toMatchObject([{ status: 'CREATED', trackingId: created.trackingId }]);
    });

    it('lets a cancel that lands during the booking win, and voids the booking at the carrier', async () => {
      const { orderId, carrier, activities, gate, creating } = await startHeldBooking();
      const cancelled = await within(
        runActivity(activities.cancelShipment, { orderId }),
        5_000,
        'cancelShipment during the booking',
      );
      expect(cancelled).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: true });
      gate.release();

      const created = await creating;
      expect(created).toMatchObject({ orderId, status: 'CANCELLED', changed: false });
      expect(await rowsOf(orderId)).toMatchObject([
        { status: 'CANCELLED', trackingId: trackingIdFor(orderId) },
      ]);
      // Once by cancelShipment (after its commit), once by createShipment when it found the cancel had won.
      expect(carrier.calls).toEqual({ book: 1, cancel: 2 });
      // Each void names this order's booking (its idempotency key): a void without one would void nothing.
      expect(carrier.cancelled).toEqual([orderId, orderId]);

      // A retry of the create books nothing; the compensation again is a no-op on the row.
      expect(await runActivity(activities.createShipment, { orderId, address })).toMatchObject({
        status: 'CANCELLED',
        changed: false,
      });
      expect(await runActivity(activities.cancelShipment, { orderId })).toMatchObject({
        status: 'CANCELLED',
        changed: false,
      });
      expect(carrier.calls.book).toBe(1);
      expect((await rowsOf(orderId)).map((row) => row.status)).toEqual(['CANCELLED']);
    });

    it('does not call the carrier again once the shipment is CREATED', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      const first = await runActivity(activities.createShipment, { orderId, address });
      const retried = await runActivity(activities.createShipment, { orderId, address }, { attempt: 2 });

      expect(retried).toEqual({ ...first, changed: false });
      expect(carrier.calls).toEqual({ book: 1, cancel: 0 });
    });

    it('books again after an attempt died mid-booking (BOOKING row left), with the same idempotency key', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      carrier.failNextBooking(new Error('carrier timeout'));

      await expect(runActivity(activities.createShipment, { orderId, address })).rejects.toThrow(
        'carrier timeout',
      );
      expect(await rowsOf(orderId)).toMatchObject([{ status: 'BOOKING', trackingId: null }]);
      // The compensation of an order that gives up now would find the row (and void a booking that may exist).

      const retried = await runActivity(activities.createShipment, { orderId, address }, { attempt: 2 });
      expect(retried).toEqual({
        orderId,
        status: 'CREATED',
        trackingId: trackingIdFor(orderId),
        changed: true,
      });
      expect(carrier.booked.map((request) => request.idempotencyKey)).toEqual([orderId, orderId]);
    });

    it('cancels a BOOKING row left by a dead attempt, and voids a booking the carrier may hold', async () => {
      const orderId = uniqueId('order');
      const carrier = testCarrier();
      const activities = createShippingActivities({ db, carrier });
      carrier.failNextBooking(new Error('carrier timeout'));
      await expect(runActivity(activities.createShipment, { orderId, address })).rejects.toThrow();

      const cancelled = await runActivity(activities.cancelShipment, { orderId });
      expect(cancelled).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: true });
      expect(carrier.calls.cancel).toBe(1);
      expect(await runActivity(activities.createShipment, { orderId, address })).toMatchObject({
        status: 'CANCELLED',
      });
      expect(carrier.calls.book).toBe(1);
    });
  });
}
