/**
 * appendEvent and the outbox trigger against real databases: an event commits with its transaction or not at all,
 * an invalid event rolls its effect back, and each service's outbox NOTIFYs its own channel, which `listen` hears
 * on both drivers.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createPaymentsActivities } from '../../activities/payments.js';
import { EVENT_SERVICES, type EventService } from '../../contracts/events.js';
import { OUT_OF_STOCK } from '../../contracts/inventory.js';
import type { Database } from '../../db/client.js';
import { products } from '../../db/schema/inventory.js';
import { appendEvent, OUTBOX_TABLES, outboxChannel } from '../../events/outbox.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { addProduct, expectBusinessFailure, runActivity, uniqueId } from '../activities/helpers.js';

/** A LISTEN on one channel: `first` resolves with the first payload (rejects after `ms`); `count` counts them all. */
interface Listener {
  first: Promise<string>;
  count(): number;
  stop(): Promise<void>;
}

async function listenTo(handle: TestDatabase, channel: string, ms = 10_000): Promise<Listener> {
  let count = 0;
  let resolve: (payload: string) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const first = new Promise<string>((res, reject) => {
    resolve = res;
    timer = setTimeout(() => reject(new Error(`no NOTIFY on ${channel} within ${ms} ms`)), ms);
  });
  // A listener nobody awaits must not fail the run with an unhandled rejection.
  first.catch(() => {});
  const stop = await handle.listen(channel, (payload) => {
    count += 1;
    clearTimeout(timer);
    resolve(payload);
  });
  return {
    first,
    count: () => count,
    stop: async () => {
      clearTimeout(timer);
      await stop();
    },
  };
}

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`appendEvent and the outbox NOTIFY (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const rowsOf = (service: EventService, orderId: string) => {
      const outbox = OUTBOX_TABLES[service];
      return db.select().from(outbox).where(eq(outbox.orderId, orderId));
    };
    const productsNamed = (sku: string) => db.select().from(products).where(eq(products.sku, sku));

    it('commits with its transaction or not at all', async () => {
      const orderId = uniqueId('order');
      const sku = uniqueId('EVROLL');
      await expect(
        db.transaction(async (tx) => {
          await tx.insert(products).values({ sku, name: 'ghost', priceCents: 1, available: 1 });
          await appendEvent(tx, 'orders', 'OrderCancelled', orderId, { orderId });
          throw new Error('effect failed after the append');
        }),
      ).rejects.toThrow('effect failed after the append');
      expect(await rowsOf('orders', orderId)).toEqual([]);
      expect(await productsNamed(sku)).toEqual([]);

      await db.transaction((tx) => appendEvent(tx, 'orders', 'OrderCancelled', orderId, { orderId }));
      expect(await rowsOf('orders', orderId)).toHaveLength(1);
    });

    it('an invalid event rolls its effect back', async () => {
      const orderId = uniqueId('order');
      const sku = uniqueId('EVBAD');
      await expect(
        db.transaction(async (tx) => {
          await tx.insert(products).values({ sku, name: 'ghost', priceCents: 1, available: 1 });
          await appendEvent(tx, 'payments', 'PaymentCharged', orderId, {
            orderId,
            chargeId: 'ch_1',
            amountCents: 1,
            // @ts-expect-error a token has no place in an event
            paymentToken: 'tok_leak',
          });
        }),
      ).rejects.toThrow(/paymentToken/);
      expect(await rowsOf('payments', orderId)).toEqual([]);
      expect(await productsNamed(sku)).toEqual([]);
    });

    it("the outbox trigger's NOTIFY reaches listen after a commit, never after a rollback", async () => {
      const inventory = createInventoryActivities({ db });
      const sku = await addProduct(db, 1, 'EVNOTIFY');
      const listener = await listenTo(handle, outboxChannel('inventory'));
      try {
        // Out of stock: the transaction rolls back, and its NOTIFY with it.
        await expectBusinessFailure(
          runActivity(inventory.reserveStock, { orderId: uniqueId('order'), items: [{ sku, quantity: 2 }] }),
          OUT_OF_STOCK,
        );
        await runActivity(inventory.reserveStock, {
          orderId: uniqueId('order'),
          items: [{ sku, quantity: 1 }],
        });
        await expect(listener.first).resolves.toBe('');
        // Notifications arrive in commit order on one connection: a rolled-back one would have come first.
        expect(listener.count()).toBe(1);
      } finally {
        await listener.stop();
      }
      // Stopped: later commits reach it no more.
      await runActivity(inventory.releaseStock, { orderId: uniqueId('order') });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(listener.count()).toBe(1);
    });

    it('each service notifies its own channel only', async () => {
      const payments = createPaymentsActivities({ db });
      const listeners = new Map<EventService, Listener>();
      for (const service of EVENT_SERVICES)
        listeners.set(service, await listenTo(handle, outboxChannel(service)));
      try {
        await runActivity(payments.chargePayment, {
          orderId: uniqueId('order'),
          amountCents: 1,
          paymentToken: 'tok_ok',
        });
        await expect(listeners.get('payments')?.first).resolves.toBe('');
        const counts = Object.fromEntries([...listeners].map(([service, l]) => [service, l.count()]));
        expect(counts).toEqual({ orders: 0, inventory: 0, payments: 1, shipping: 0 });
      } finally {
        for (const listener of listeners.values()) await listener.stop();
      }
    });

    it('listen refuses a channel name it would have to quote', async () => {
      await expect(handle.listen('Outbox; drop table x', () => {})).rejects.toThrow(/invalid LISTEN channel/);
    });
  });
}
