/** Shipping activities against a real database: one shipment per order, cancel tombstones, no addresses kept. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from '../support/database.js';
import { expectBusinessFailure, RecordingLogger, runActivity, uniqueId } from './helpers.js';

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

    it('fails an undeliverable country as a non-retryable business failure and creates nothing', async () => {
      const orderId = uniqueId('order');
      await expectBusinessFailure(
        runActivity(shipping.createShipment, {
          orderId,
          address: { ...address, country: UNDELIVERABLE_COUNTRY },
        }),
        ADDRESS_UNDELIVERABLE,
      );
      expect(await rowsOf(orderId)).toEqual([]);
    });

    it('cancels once when called twice', async () => {
      const orderId = uniqueId('order');
      const created = await runActivity(shipping.createShipment, { orderId, address });

      const first = await runActivity(shipping.cancelShipment, { orderId });
      const second = await runActivity(shipping.cancelShipment, { orderId });

      expect(first).toEqual({ orderId, status: 'CANCELLED', trackingId: created.trackingId, changed: true });
      expect(second).toEqual({ ...first, changed: false });
      expect((await rowsOf(orderId)).map((row) => row.status)).toEqual(['CANCELLED']);
    });

    it('leaves a tombstone when cancel comes first, so a late create makes nothing', async () => {
      const orderId = uniqueId('order');

      const cancelled = await runActivity(shipping.cancelShipment, { orderId });
      const created = await runActivity(shipping.createShipment, { orderId, address });

      expect(cancelled).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: true });
      expect(created).toEqual({ orderId, status: 'CANCELLED', trackingId: null, changed: false });
      const rows = await rowsOf(orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'CANCELLED', trackingId: null });
    });
  });
}
