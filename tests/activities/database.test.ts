/** The database layer itself: both drivers open, migrate idempotently, roll back on throw; migration is race-safe. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { products } from '../../db/schema/inventory.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { uniqueId } from './helpers.js';

/** Every committed migration (db/migrations/meta/_journal.json): a fresh database gets them all at once. */
const MIGRATIONS = (
  JSON.parse(readFileSync(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: unknown[];
  }
).entries.length;

const SERVICE_SCHEMAS = ['inventory', 'orders', 'payments', 'shipping'];

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`database (${driver})`, () => {
    let handle: TestDatabase;

    beforeAll(async () => {
      handle = await createTestDatabase(driver, { migrate: false });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    it('reports its driver and answers a ping', async () => {
      expect(handle.driver).toBe(driver);
      await expect(handle.ping()).resolves.toBeUndefined();
    });

    it('creates one schema per service on the first migration and nothing on the next', async () => {
      expect(await migrateDatabase(handle)).toEqual({ applied: MIGRATIONS });
      expect(await migrateDatabase(handle)).toEqual({ applied: 0 });

      const schemas = await handle.db.execute<{ schema_name: string }>(
        sql`select schema_name from information_schema.schemata where schema_name in ('inventory', 'orders', 'payments', 'shipping') order by 1`,
      );
      const rows = Array.isArray(schemas) ? schemas : (schemas as unknown as { rows: unknown[] }).rows;
      expect(rows.map((row) => (row as { schema_name: string }).schema_name)).toEqual(SERVICE_SCHEMAS);
    });

    it('rolls a transaction back when its callback throws', async () => {
      const sku = uniqueId('ROLLBACK');
      await expect(
        handle.db.transaction(async (tx) => {
          await tx.insert(products).values({ sku, name: 'ghost', priceCents: 1, available: 1 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await handle.db.select().from(products).where(eq(products.sku, sku))).toEqual([]);
    });

    it('enforces stock checks in the database, whatever the code does', async () => {
      const sku = uniqueId('CHECK');
      await handle.db.insert(products).values({ sku, name: 'x', priceCents: 1, available: 1 });
      await expect(
        handle.db
          .update(products)
          .set({ available: sql`${products.available} - 2` })
          .where(eq(products.sku, sku)),
      ).rejects.toThrow();
    });
  });
}

describe.skipIf(TEST_DRIVERS.find((d) => d.driver === 'postgres')?.skip ?? true)(
  'migration race (postgres)',
  () => {
    let target: TestDatabase;

    beforeAll(async () => {
      target = await createTestDatabase('postgres', { migrate: false });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await target?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    it('applies migrations exactly once when several processes start together', async () => {
      const handles = await Promise.all(
        Array.from({ length: 4 }, () => openDatabase({ url: target.url, poolSize: 1 })),
      );
      try {
        const reports = await Promise.all(handles.map((h) => migrateDatabase(h)));
        expect(reports.map((r) => r.applied).sort()).toEqual([0, 0, 0, MIGRATIONS]);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    });
  },
);

describe('pglite on disk', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'saga-pglite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'creates its folder and keeps data across restarts',
    async () => {
      const dataDir = path.join(dir, 'nested', 'pglite');
      const first = await openDatabase({ pgliteDir: dataDir });
      await migrateDatabase(first);
      await first.db.insert(products).values({ sku: 'DISK-1', name: 'kept', priceCents: 1, available: 2 });
      await first.close();
      expect((await stat(dataDir)).isDirectory()).toBe(true);

      const second = await openDatabase({ pgliteDir: dataDir });
      try {
        expect(second.driver).toBe('pglite');
        expect(await migrateDatabase(second)).toEqual({ applied: 0 });
        const rows = await second.db.select().from(products).where(eq(products.sku, 'DISK-1'));
        expect(rows.map((row) => row.available)).toEqual([2]);
      } finally {
        await second.close();
      }
    },
    DATABASE_HOOK_TIMEOUT_MS,
  );
});
