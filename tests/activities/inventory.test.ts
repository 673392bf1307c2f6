/** Inventory activities against a real database: idempotent, all-or-nothing, never oversold. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities, INVALID_STOCK_REQUEST } from '../../activities/inventory.js';
import { OUT_OF_STOCK, RESERVATION_NOT_FOUND, UNKNOWN_SKU } from '../../contracts/inventory.js';
import type { Database } from '../../db/client.js';
import { reservationItems, reservations } from '../../db/schema/inventory.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { addProduct, expectBusinessFailure, runActivity, stockOf, uniqueId } from './helpers.js';

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`inventory activities (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;
    let inventory: ReturnType<typeof createInventoryActivities>;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
      inventory = createInventoryActivities({ db });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const reservationStatus = async (orderId: string) =>
      (await db.select().from(reservations).where(eq(reservations.orderId, orderId)))[0]?.status;

    it('reserves once when called twice', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');
      const input = { orderId, items: [{ sku, quantity: 3 }] };

      const first = await runActivity(inventory.reserveStock, input);
      const second = await runActivity(inventory.reserveStock, input);

      expect(first).toEqual({ orderId, status: 'RESERVED', changed: true });
      expect(second).toEqual({ orderId, status: 'RESERVED', changed: false });
      expect(await stockOf(db, sku)).toEqual({ available: 7, reserved: 3 });
      const held = await db.select().from(reservationItems).where(eq(reservationItems.orderId, orderId));
      expect(held).toEqual([{ orderId, sku, quantity: 3 }]);
    });

    it('adds up duplicate SKUs into one line', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');
      await runActivity(inventory.reserveStock, {
        orderId,
        items: [
          { sku, quantity: 2 },
          { sku, quantity: 3 },
        ],
      });
      expect(await stockOf(db, sku)).toEqual({ available: 5, reserved: 5 });
      const held = await db.select().from(reservationItems).where(eq(reservationItems.orderId, orderId));
      expect(held).toEqual([{ orderId, sku, quantity: 5 }]);
    });

    it('reserves nothing when a later item is out of stock, and says which one', async () => {
      // SKUs are taken in sorted order, so A is decremented before B fails: the rollback must undo it.
      const first = await addProduct(db, 10, 'A');
      const second = await addProduct(db, 1, 'B');
      const orderId = uniqueId('order');

      const failure = await expectBusinessFailure(
        runActivity(inventory.reserveStock, {
          orderId,
          items: [
            { sku: second, quantity: 2 },
            { sku: first, quantity: 4 },
          ],
        }),
        OUT_OF_STOCK,
      );

      expect(failure.message).toContain(second);
      expect(failure.message).toContain('requested 2');
      expect(failure.message).toContain('available 1');
      expect(await stockOf(db, first)).toEqual({ available: 10, reserved: 0 });
      expect(await stockOf(db, second)).toEqual({ available: 1, reserved: 0 });
      expect(await reservationStatus(orderId)).toBeUndefined();
    });

    it('fails an unknown SKU as a non-retryable business failure and keeps the other items', async () => {
      const known = await addProduct(db, 10, 'A');
      const unknown = uniqueId('ZZ-MISSING');
      const orderId = uniqueId('order');

      const failure = await expectBusinessFailure(
        runActivity(inventory.reserveStock, {
          orderId,
          items: [
            { sku: known, quantity: 1 },
            { sku: unknown, quantity: 1 },
          ],
        }),
        UNKNOWN_SKU,
      );

      expect(failure.message).toContain(unknown);
      expect(await stockOf(db, known)).toEqual({ available: 10, reserved: 0 });
      expect(await reservationStatus(orderId)).toBeUndefined();
    });

    it('can reserve after a failed attempt once stock is there (the failure left no reservation behind)', async () => {
      const sku = await addProduct(db, 1);
      const orderId = uniqueId('order');
      const input = { orderId, items: [{ sku, quantity: 2 }] };
      await expectBusinessFailure(runActivity(inventory.reserveStock, input), OUT_OF_STOCK);
      await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 1 }] });
      expect(await stockOf(db, sku)).toEqual({ available: 0, reserved: 1 });
    });

    it('rejects malformed requests as non-retryable', async () => {
      const sku = await addProduct(db, 5);
      await expectBusinessFailure(
        runActivity(inventory.reserveStock, { orderId: uniqueId('order'), items: [] }),
        INVALID_STOCK_REQUEST,
      );
      await expectBusinessFailure(
        runActivity(inventory.reserveStock, { orderId: uniqueId('order'), items: [{ sku, quantity: 0 }] }),
        INVALID_STOCK_REQUEST,
      );
      expect(await stockOf(db, sku)).toEqual({ available: 5, reserved: 0 });
    });

    it('never oversells under concurrent reservations', async () => {
      const sku = await addProduct(db, 5);
      const attempts = Array.from({ length: 20 }, () =>
        runActivity(inventory.reserveStock, { orderId: uniqueId('order'), items: [{ sku, quantity: 1 }] }),
      );

      const results = await Promise.allSettled(attempts);

      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(fulfilled).toHaveLength(5);
      expect(rejected).toHaveLength(15);
      for (const r of rejected) expect((r as PromiseRejectedResult).reason.type).toBe(OUT_OF_STOCK);
      expect(await stockOf(db, sku)).toEqual({ available: 0, reserved: 5 });
    });

    it('takes stock once when the same reservation is retried concurrently', async () => {
      const sku = await addProduct(db, 50);
      const input = { orderId: uniqueId('order'), items: [{ sku, quantity: 4 }] };

      const results = await Promise.all(
        Array.from({ length: 8 }, () => runActivity(inventory.reserveStock, input)),
      );

      expect(results.filter((r) => r.changed)).toHaveLength(1);
      expect(await stockOf(db, sku)).toEqual({ available: 46, reserved: 4 });
    });

    it('releases once when called twice', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');
      await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 4 }] });

      const first = await runActivity(inventory.releaseStock, { orderId });
      const second = await runActivity(inventory.releaseStock, { orderId });

      expect(first).toEqual({ orderId, status: 'RELEASED', changed: true });
      expect(second).toEqual({ orderId, status: 'RELEASED', changed: false });
      expect(await stockOf(db, sku)).toEqual({ available: 10, reserved: 0 });
    });

    it('gives units back once when releases race', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');
      await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 4 }] });

      await Promise.all(Array.from({ length: 6 }, () => runActivity(inventory.releaseStock, { orderId })));

      expect(await stockOf(db, sku)).toEqual({ available: 10, reserved: 0 });
    });

    it('leaves a tombstone when release comes before reserve, so the late reserve takes nothing', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');

      const released = await runActivity(inventory.releaseStock, { orderId });
      const reserved = await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 3 }] });

      expect(released).toEqual({ orderId, status: 'RELEASED', changed: true });
      expect(reserved).toEqual({ orderId, status: 'RELEASED', changed: false });
      expect(await stockOf(db, sku)).toEqual({ available: 10, reserved: 0 });
    });

    it('commits once: reserved units leave, available stays', async () => {
      const sku = await addProduct(db, 10);
      const orderId = uniqueId('order');
      await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 2 }] });

      const first = await runActivity(inventory.commitStock, { orderId });
      const second = await runActivity(inventory.commitStock, { orderId });
      const lateRelease = await runActivity(inventory.releaseStock, { orderId });

      expect(first).toEqual({ orderId, status: 'COMMITTED', changed: true });
      expect(second).toEqual({ orderId, status: 'COMMITTED', changed: false });
      expect(lateRelease).toEqual({ orderId, status: 'COMMITTED', changed: false });
      expect(await stockOf(db, sku)).toEqual({ available: 8, reserved: 0 });
    });

    it('refuses to commit a missing or released reservation', async () => {
      const sku = await addProduct(db, 10);
      await expectBusinessFailure(
        runActivity(inventory.commitStock, { orderId: uniqueId('order') }),
        RESERVATION_NOT_FOUND,
      );
      const orderId = uniqueId('order');
      await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 2 }] });
      await runActivity(inventory.releaseStock, { orderId });
      await expectBusinessFailure(runActivity(inventory.commitStock, { orderId }), RESERVATION_NOT_FOUND);
      expect(await stockOf(db, sku)).toEqual({ available: 10, reserved: 0 });
    });
  });
}
