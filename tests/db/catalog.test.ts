/** Catalog reads and admin writes, and the demo seed, against a real database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory.js';
import type { Database } from '../../db/client.js';
import {
  getProduct,
  getProductsBySku,
  listProducts,
  putProduct,
  upsertProduct,
} from '../../db/queries/catalog.js';
import { SEED_PRODUCTS, seedCatalog } from '../../db/seed.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { runActivity, stockOf, uniqueId } from '../activities/helpers.js';

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`catalog and seed (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    it('seeds the demo catalog once and never resets stock on a restart', async () => {
      expect(await seedCatalog(db)).toBe(SEED_PRODUCTS.length);
      await upsertProduct(db, { sku: 'MUG-RED', name: 'Red mug', priceCents: 1299, available: 7 });

      expect(await seedCatalog(db)).toBe(0);

      const mug = (await getProductsBySku(db, ['MUG-RED'])).get('MUG-RED');
      expect(mug).toEqual({
        sku: 'MUG-RED',
        name: 'Red mug',
        priceCents: 1299,
        available: 7,
        reserved: 0,
        version: 2,
      });
      const limited = (await getProductsBySku(db, ['LIMITED-1'])).get('LIMITED-1');
      expect(limited?.available).toBe(3);
    });

    it('lists products sorted by SKU', async () => {
      const skus = (await listProducts(db)).map((product) => product.sku);
      expect(skus).toEqual([...skus].sort());
      expect(skus).toEqual(expect.arrayContaining(SEED_PRODUCTS.map((product) => product.sku)));
    });

    it('looks up products by SKU, leaving unknown SKUs out', async () => {
      const found = await getProductsBySku(db, ['BOOK-SAGA', 'NOPE-404', 'BOOK-SAGA']);
      expect([...found.keys()]).toEqual(['BOOK-SAGA']);
      expect(found.get('BOOK-SAGA')).toMatchObject({ name: 'Book: Sagas in practice', priceCents: 3999 });
      expect(await getProductsBySku(db, [])).toEqual(new Map());
    });

    it('upserts name, price and stock idempotently, bumping the version, and leaves reserved units alone', async () => {
      const sku = uniqueId('ADMIN');
      const input = { sku, name: 'Pen', priceCents: 150, available: 10 };
      expect(await upsertProduct(db, input)).toEqual({ ...input, reserved: 0, version: 1 });
      expect(await upsertProduct(db, input)).toEqual({ ...input, reserved: 0, version: 2 });

      const inventory = createInventoryActivities({ db });
      await runActivity(inventory.reserveStock, {
        orderId: uniqueId('order'),
        items: [{ sku, quantity: 4 }],
      });
      const updated = await upsertProduct(db, { sku, name: 'Blue pen', priceCents: 175, available: 20 });

      expect(updated).toEqual({
        sku,
        name: 'Blue pen',
        priceCents: 175,
        available: 20,
        reserved: 4,
        version: 3,
      });
    });

    it('refuses negative stock or price and changes nothing', async () => {
      const sku = uniqueId('ADMIN');
      await upsertProduct(db, { sku, name: 'Pen', priceCents: 150, available: 10 });
      await expect(upsertProduct(db, { sku, name: 'Pen', priceCents: 150, available: -1 })).rejects.toThrow(
        RangeError,
      );
      await expect(upsertProduct(db, { sku, name: 'Pen', priceCents: -5, available: 1 })).rejects.toThrow(
        RangeError,
      );
      expect(await stockOf(db, sku)).toEqual({ available: 10, reserved: 0 });
    });

    it('writes conditionally: by version, any, create-only; reservations never bump the version', async () => {
      const sku = uniqueId('COND');
      const pen = { sku, name: 'Pen', priceCents: 150, available: 10 };
      expect(await putProduct(db, pen, { kind: 'create' })).toMatchObject({
        outcome: 'created',
        product: { version: 1 },
      });
      expect(await putProduct(db, { ...pen, available: 11 }, { kind: 'create' })).toMatchObject({
        outcome: 'precondition-required',
        current: { version: 1, available: 10 },
      });
      expect(await putProduct(db, pen, { kind: 'absent' })).toMatchObject({ outcome: 'precondition-failed' });
      expect(
        await putProduct(db, { ...pen, available: 12 }, { kind: 'version', versions: [2] }),
      ).toMatchObject({
        outcome: 'precondition-failed',
        current: { version: 1 },
      });
      expect(
        await putProduct(db, { ...pen, available: 12 }, { kind: 'version', versions: [1] }),
      ).toMatchObject({
        outcome: 'updated',
        product: { version: 2, available: 12 },
      });
      await runActivity(createInventoryActivities({ db }).reserveStock, {
        orderId: uniqueId('order'),
        items: [{ sku, quantity: 2 }],
      });
      expect(await getProduct(db, sku)).toMatchObject({ version: 2, available: 10, reserved: 2 });
      expect(await putProduct(db, { ...pen, available: 20 }, { kind: 'exists' })).toMatchObject({
        outcome: 'updated',
        product: { version: 3, available: 20, reserved: 2 },
      });
      const ghost = { ...pen, sku: uniqueId('GHOST') };
      for (const condition of [
        { kind: 'exists' },
        { kind: 'version', versions: [1] },
        { kind: 'never' },
      ] as const) {
        expect(await putProduct(db, ghost, condition)).toEqual({
          outcome: 'precondition-failed',
          current: undefined,
        });
      }
      expect(await getProduct(db, ghost.sku)).toBeUndefined();
      await expect(putProduct(db, { ...pen, available: -1 }, { kind: 'exists' })).rejects.toThrow(RangeError);
    });
  });
}
