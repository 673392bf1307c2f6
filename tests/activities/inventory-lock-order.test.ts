/**
 * One SKU lock order everywhere: reserve, release and commit update product rows in the same order, whatever the
 * database's collation, so two orders sharing SKUs cannot deadlock. A row trigger records the order in which each
 * activity really updated the rows.
 */
import { randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSkus, createInventoryActivities, inLockOrder } from '../../activities/inventory.js';
import { type Database, type DatabaseHandle, openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { products } from '../../db/schema/inventory.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  TEST_POSTGRES_URL,
} from '../../harness/throwaway-database.js';
import { runActivity, uniqueId } from './helpers.js';

/** Byte order ("C") and en-US order disagree on these: en-US ignores case first ('a-1' < 'B-1' < 'b_0'). */
const MIXED_CASE = ['mug-Red', 'b_0', 'MUG-BLUE', 'a-1', 'B-1', 'A_2'];
/** UTF-16 code units (JavaScript's `<`) and byte order disagree on these: U+1F600 is a surrogate pair (0xD83D). */
const ASTRAL = ['\u{1F600}', '\uFF21', 'z'];

describe('SKU lock order', () => {
  it('is UTF-8 byte order, unlike en-US collation and unlike UTF-16 `<`', () => {
    const bytes = (skus: string[]) =>
      [...skus].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    const lockOrder = (skus: string[]) => inLockOrder(skus.map((sku) => ({ sku }))).map((line) => line.sku);

    expect(lockOrder(MIXED_CASE)).toEqual(['A_2', 'B-1', 'MUG-BLUE', 'a-1', 'b_0', 'mug-Red']);
    expect(lockOrder(MIXED_CASE)).toEqual(bytes(MIXED_CASE));
    expect(lockOrder(MIXED_CASE)).not.toEqual([...MIXED_CASE].sort(new Intl.Collator('en-US').compare));
    expect(lockOrder(ASTRAL)).toEqual(['z', '\uFF21', '\u{1F600}']);
    expect(lockOrder(ASTRAL)).not.toEqual([...ASTRAL].sort());
    expect(compareSkus('a', 'a')).toBe(0);
  });
});

/** Records every update of a product row, in order, into `public.lock_log`. */
async function installLockLog(db: Database): Promise<void> {
  await db.execute(sql`create table public.lock_log (seq bigserial primary key, sku text not null)`);
  await db.execute(sql`
    create function public.log_product_lock() returns trigger language plpgsql as $$
    begin
      insert into public.lock_log (sku) values (new.sku);
      return new;
    end $$`);
  await db.execute(sql`
    create trigger log_product_lock before update on inventory.products
      for each row execute function public.log_product_lock()`);
}

/** Rows of a raw query, from either driver (postgres.js returns an array, PGlite an object with `rows`). */
async function query<T>(db: Database, statement: SQL): Promise<T[]> {
  const result = await db.execute(statement);
  return (Array.isArray(result) ? result : (result as unknown as { rows: unknown[] }).rows) as T[];
}

/** Runs `action` and returns the SKUs (starting with `prefix`) whose rows it updated, in update order. */
async function lockedBy(db: Database, prefix: string, action: () => Promise<unknown>): Promise<string[]> {
  const [last] = await query<{ seq: string }>(
    db,
    sql`select coalesce(max(seq), 0)::text as seq from public.lock_log`,
  );
  await action();
  const rows = await query<{ sku: string }>(
    db,
    sql`select sku from public.lock_log where seq > ${last?.seq ?? '0'}::bigint order by seq`,
  );
  return rows.map((row) => row.sku).filter((sku) => sku.startsWith(prefix));
}

/**
 * Reserves `suffixes` for one order then releases it, reserves them for another then commits it; returns the
 * update order of each of the four calls, suffixes only.
 */
async function lockOrders(db: Database, suffixes: string[]) {
  const inventory = createInventoryActivities({ db });
  const prefix = `${uniqueId('lock')}-`;
  await db
    .insert(products)
    .values(
      suffixes.map((suffix) => ({ sku: prefix + suffix, name: suffix, priceCents: 100, available: 10 })),
    );
  // Deliberately not sorted: the activity must put the lines in its lock order itself.
  const items = suffixes.map((suffix) => ({ sku: prefix + suffix, quantity: 1 }));
  const released = uniqueId('order');
  const committed = uniqueId('order');
  const strip = (skus: string[]) => skus.map((sku) => sku.slice(prefix.length));
  return {
    reserve: strip(
      await lockedBy(db, prefix, () => runActivity(inventory.reserveStock, { orderId: released, items })),
    ),
    release: strip(
      await lockedBy(db, prefix, () => runActivity(inventory.releaseStock, { orderId: released })),
    ),
    reserveAgain: strip(
      await lockedBy(db, prefix, () => runActivity(inventory.reserveStock, { orderId: committed, items })),
    ),
    commit: strip(
      await lockedBy(db, prefix, () => runActivity(inventory.commitStock, { orderId: committed })),
    ),
  };
}

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`reserve, release and commit lock in one order (${driver})`, () => {
    let handle: DatabaseHandle;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      await installLockLog(handle.db);
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    it('for SKUs that UTF-16 order and byte order sort differently', async () => {
      const order = await lockOrders(handle.db, ASTRAL);
      expect(order.reserve).toEqual(['z', '\uFF21', '\u{1F600}']);
      expect(order).toEqual({
        reserve: order.reserve,
        release: order.reserve,
        reserveAgain: order.reserve,
        commit: order.reserve,
      });
    });
  });
}

describe.skipIf(TEST_POSTGRES_URL === undefined)('on a database with an en-US (ICU) collation', () => {
  const name = `saga_test_icu_${process.pid}_${randomBytes(4).toString('hex')}`;
  let handle: DatabaseHandle | undefined;
  const admin = () => postgres(TEST_POSTGRES_URL ?? '', { max: 1, onnotice: () => {} });

  beforeAll(async () => {
    const server = admin();
    try {
      // ICU as the database default collation (Postgres 15+): no libc en_US locale needs to be installed.
      await server.unsafe(
        `create database "${name}" template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'`,
      );
    } finally {
      await server.end();
    }
    const url = new URL(TEST_POSTGRES_URL ?? '');
    url.pathname = `/${name}`;
    handle = await openDatabase({ url: url.toString(), poolSize: 4 });
    await migrateDatabase(handle);
    await installLockLog(handle.db);
  }, DATABASE_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await handle?.close();
    const server = admin();
    try {
      await server.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await server.end();
    }
  }, DATABASE_HOOK_TIMEOUT_MS);

  it('sorts SKUs differently from byte order (so the next check means something)', async () => {
    const sorted = await query<{ s: string }>(
      (handle as DatabaseHandle).db,
      sql`select s from unnest(array[${sql.join(
        MIXED_CASE.map((sku) => sql`${sku}::text`),
        sql`, `,
      )}]) s order by s`,
    );
    expect(sorted.map((row) => row.s)).toEqual(['A_2', 'a-1', 'b_0', 'B-1', 'MUG-BLUE', 'mug-Red']);
  });

  it('locks in byte order in reserve, release and commit alike', async () => {
    const order = await lockOrders((handle as DatabaseHandle).db, MIXED_CASE);
    expect(order.reserve).toEqual(['A_2', 'B-1', 'MUG-BLUE', 'a-1', 'b_0', 'mug-Red']);
    expect(order).toEqual({
      reserve: order.reserve,
      release: order.reserve,
      reserveAgain: order.reserve,
      commit: order.reserve,
    });
  });
});
