/** Orders activities against a real database: one row per order, status only moves forward. */
import { ApplicationFailure } from '@temporalio/common';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersActivities } from '../../activities/orders.js';
import type { CreateOrderRecordInput, OrderState } from '../../contracts/orders.js';
import type { Database } from '../../db/client.js';
import { orders } from '../../db/schema/orders.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { expectTransientError, RecordingLogger, runActivity, uniqueId } from './helpers.js';

function orderInput(orderId: string): CreateOrderRecordInput {
  return {
    orderId,
    customerId: 'cust-1',
    items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
    totalCents: 2598,
    createdAt: '2025-01-02T03:04:05.000Z',
  };
}

/** An order view as the saga records it. */
function viewOf(orderId: string): OrderState {
  const { items, totalCents, createdAt, customerId } = orderInput(orderId);
  return {
    orderId,
    customerId,
    status: 'PENDING',
    items,
    totalCents,
    steps: [{ name: 'reserveStock', status: 'SUCCEEDED', at: createdAt, error: null }],
    payment: { status: 'NONE', amountCents: 0 },
    shipment: { status: 'NONE', trackingId: null },
    failureReason: null,
    failureCode: null,
    cancelRequested: false,
    createdAt,
    updatedAt: createdAt,
  };
}

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`orders activities (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;
    let activities: ReturnType<typeof createOrdersActivities>;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
      activities = createOrdersActivities({ db });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const readOrder = async (orderId: string) =>
      (await db.select().from(orders).where(eq(orders.orderId, orderId)))[0];

    it('writes the order row once, as PENDING with seq 0', async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, orderInput(orderId));
      await runActivity(activities.createOrderRecord, orderInput(orderId));

      const rows = await db.select().from(orders).where(eq(orders.orderId, orderId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        customerId: 'cust-1',
        items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
        totalCents: 2598,
        status: 'PENDING',
        statusSeq: 0,
        failureReason: null,
      });
      expect(rows[0]?.createdAt.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    });

    it('does not reset the status when the create is retried after progress', async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, orderInput(orderId));
      await runActivity(activities.setOrderStatus, { orderId, status: 'CHARGING', seq: 2 });
      await runActivity(activities.createOrderRecord, orderInput(orderId));
      expect((await readOrder(orderId))?.status).toBe('CHARGING');
    });

    it('moves forward on a higher seq and never back on a lower or equal one', async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, orderInput(orderId));

      await runActivity(activities.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 });
      await runActivity(activities.setOrderStatus, { orderId, status: 'COMPENSATING', seq: 3 });
      await runActivity(activities.setOrderStatus, {
        orderId,
        status: 'FAILED',
        seq: 4,
        failureReason: 'out of stock',
      });
      // Late retries of earlier writes.
      await runActivity(activities.setOrderStatus, { orderId, status: 'CHARGING', seq: 2 });
      await runActivity(activities.setOrderStatus, { orderId, status: 'COMPLETED', seq: 4 });

      const row = await readOrder(orderId);
      expect(row).toMatchObject({ status: 'FAILED', statusSeq: 4, failureReason: 'out of stock' });
      expect(row?.updatedAt.getTime()).toBeGreaterThan(row?.createdAt.getTime() ?? Number.POSITIVE_INFINITY);
    });

    it('a later stage wins over a seq a lost workflow task already used, and never gives way to an earlier one', async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, orderInput(orderId));
      // A lost task ran the forward writes up to seq 3; its retry saw a cancel and counts again from 1.
      await runActivity(activities.setOrderStatus, { orderId, status: 'SHIPPING', seq: 3 });
      await runActivity(activities.setOrderStatus, { orderId, status: 'COMPENSATING', seq: 1 });
      expect(await readOrder(orderId)).toMatchObject({ status: 'COMPENSATING', statusSeq: 1 });
      // A forward write, even with a higher seq, cannot undo the move to compensating.
      await runActivity(activities.setOrderStatus, { orderId, status: 'SHIPPING', seq: 5 });
      expect((await readOrder(orderId))?.status).toBe('COMPENSATING');
      await runActivity(activities.setOrderStatus, { orderId, status: 'CANCELLED', seq: 2 });
      await runActivity(activities.setOrderStatus, { orderId, status: 'COMPENSATION_FAILED', seq: 9 });
      // The end is final, even against a higher seq (a lost task's terminal write landing late).
      await runActivity(activities.setOrderStatus, { orderId, status: 'FAILED', seq: 7 });
      expect(await readOrder(orderId)).toMatchObject({ status: 'CANCELLED', statusSeq: 2 });
    });

    it('fails retryably when the order row does not exist yet', async () => {
      const orderId = uniqueId('order');
      const error = await expectTransientError(
        runActivity(activities.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 }),
      );
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect(error.message).toContain(orderId);
    });

    it("records the owner, each write's view and failure code; a stale write keeps the newer view", async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, { ...orderInput(orderId), clientId: 'app-9' });
      const failed = { ...viewOf(orderId), status: 'FAILED' as const, failureCode: 'PaymentDeclined' };
      await runActivity(activities.setOrderStatus, {
        orderId,
        status: 'FAILED',
        seq: 3,
        failureReason: 'card declined',
        failureCode: 'PaymentDeclined',
        view: failed,
      });
      const late = { ...viewOf(orderId), status: 'CHARGING' as const };
      await runActivity(activities.setOrderStatus, { orderId, status: 'CHARGING', seq: 2, view: late });
      expect(await readOrder(orderId)).toMatchObject({
        clientId: 'app-9',
        status: 'FAILED',
        failureCode: 'PaymentDeclined',
        view: failed,
      });
    });

    it('a write carrying the view creates the row its failed first write left missing, once', async () => {
      const orderId = uniqueId('order');
      const view = { ...viewOf(orderId), status: 'FAILED' as const, totalCents: 5_000_000_000_000 };
      const write = { orderId, status: 'FAILED' as const, seq: 2, clientId: 'app-9', view };
      await runActivity(activities.setOrderStatus, write);
      await runActivity(activities.setOrderStatus, write);
      const rows = await db.select().from(orders).where(eq(orders.orderId, orderId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        clientId: 'app-9',
        customerId: 'cust-1',
        status: 'FAILED',
        statusSeq: 2,
        totalCents: 5_000_000_000_000,
        view,
      });
      expect(rows[0]?.createdAt.toISOString()).toBe(view.createdAt);
    });

    it("keeps the request's fingerprint, from the create or from the saga's first status write", async () => {
      const created = uniqueId('order');
      await runActivity(activities.createOrderRecord, { ...orderInput(created), requestHash: 'hash-create' });
      expect(await readOrder(created)).toMatchObject({ requestHash: 'hash-create', clientId: 'anonymous' });

      const firstWritten = uniqueId('order');
      const view = { ...viewOf(firstWritten), status: 'RESERVING' as const };
      const first = {
        orderId: firstWritten,
        status: 'RESERVING' as const,
        seq: 1,
        clientId: 'app-9',
        view,
        firstWrite: { requestHash: 'hash-first' },
      };
      await runActivity(activities.setOrderStatus, first);
      expect(await readOrder(firstWritten)).toMatchObject({
        requestHash: 'hash-first',
        clientId: 'app-9',
        status: 'RESERVING',
        statusSeq: 1,
      });
      // A write that creates a missing row later in the saga has no fingerprint to give.
      const late = uniqueId('order');
      await runActivity(activities.setOrderStatus, { ...first, orderId: late, firstWrite: undefined });
      expect((await readOrder(late))?.requestHash).toBeNull();
    });

    it('tells the operator what each write did: recorded, created by a status write, moved, or left as it was', async () => {
      const orderId = uniqueId('order');
      const logger = new RecordingLogger();
      const run = <I>(fn: (input: I) => Promise<void>, input: I) => runActivity(fn, input, { logger });
      await run(activities.createOrderRecord, orderInput(orderId));
      await run(activities.createOrderRecord, orderInput(orderId));
      await run(activities.setOrderStatus, { orderId, status: 'CHARGING', seq: 2 });
      await run(activities.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 });
      const missing = uniqueId('order');
      await run(activities.setOrderStatus, {
        orderId: missing,
        status: 'FAILED',
        seq: 2,
        view: viewOf(missing),
      });
      expect(logger.entries.filter((entry) => entry.level === 'INFO')).toEqual([
        {
          level: 'INFO',
          message: 'order record written',
          meta: expect.objectContaining({ orderId, changed: true }),
        },
        {
          level: 'INFO',
          message: 'order record written',
          meta: expect.objectContaining({ orderId, changed: false }),
        },
        {
          level: 'INFO',
          message: 'order status set',
          meta: expect.objectContaining({ orderId, status: 'CHARGING', seq: 2 }),
        },
        {
          level: 'INFO',
          message: 'order status unchanged (stale or repeated write)',
          meta: expect.objectContaining({
            orderId,
            status: 'RESERVING',
            seq: 1,
            currentStatus: 'CHARGING',
            currentSeq: 2,
          }),
        },
        {
          level: 'INFO',
          message: 'order record created by its status write',
          meta: expect.objectContaining({ orderId: missing, status: 'FAILED', seq: 2 }),
        },
      ]);
    });

    it('has a check constraint that rejects statuses outside the contract', async () => {
      const orderId = uniqueId('order');
      await runActivity(activities.createOrderRecord, orderInput(orderId));
      await expect(
        db.execute(sql`update orders.orders set status = 'SHIPPED' where order_id = ${orderId}`),
      ).rejects.toThrow();
    });
  });
}
