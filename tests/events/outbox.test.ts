/**
 * Each service's activities write their events to its outbox, against real databases: an effect that changed
 * something appends exactly one valid envelope (right type, subject and data) in its own transaction, a retry or a
 * rolled-back effect appends nothing, and no token or address leaves the service.
 */
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createOrdersActivities, NO_FAILURE_REASON } from '../../activities/orders.js';
import { createPaymentsActivities } from '../../activities/payments.js';
import { createShippingActivities } from '../../activities/shipping.js';
import {
  type EventData,
  type EventName,
  type EventService,
  eventSource,
  eventSubject,
  eventType,
} from '../../contracts/events.js';
import { OUT_OF_STOCK } from '../../contracts/inventory.js';
import type { OrderState, ShippingAddress } from '../../contracts/orders.js';
import { PAYMENT_DECLINED, TOKEN_DECLINED } from '../../contracts/payments.js';
import { ADDRESS_UNDELIVERABLE, UNDELIVERABLE_COUNTRY } from '../../contracts/shipping.js';
import type { Database } from '../../db/client.js';
import { parseEventEnvelope } from '../../events/envelope.js';
import { OUTBOX_TABLES } from '../../events/outbox.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { addProduct, expectBusinessFailure, runActivity, uniqueId } from '../activities/helpers.js';

const address: ShippingAddress = {
  name: 'Grace Hopper',
  line1: '7 Compiler Lane',
  city: 'Arlington',
  postalCode: 'VA 22201',
  country: 'US',
};

function orderInput(orderId: string) {
  return {
    orderId,
    customerId: 'cust-7',
    clientId: 'app-1',
    items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
    totalCents: 2598,
    createdAt: '2026-01-02T03:04:05.000Z',
  };
}

function viewOf(orderId: string, status: OrderState['status']): OrderState {
  const { customerId, items, totalCents, createdAt } = orderInput(orderId);
  return {
    orderId,
    customerId,
    status,
    items,
    totalCents,
    steps: [],
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
  describe.skipIf(skip)(`transactional outbox (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;
    let orders: ReturnType<typeof createOrdersActivities>;
    let inventory: ReturnType<typeof createInventoryActivities>;
    let payments: ReturnType<typeof createPaymentsActivities>;
    let shipping: ReturnType<typeof createShippingActivities>;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
      orders = createOrdersActivities({ db });
      inventory = createInventoryActivities({ db });
      payments = createPaymentsActivities({ db });
      shipping = createShippingActivities({ db });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    /** One order's outbox rows of a service, in commit order. */
    const rowsOf = (service: EventService, orderId: string) => {
      const outbox = OUTBOX_TABLES[service];
      return db.select().from(outbox).where(eq(outbox.orderId, orderId)).orderBy(asc(outbox.seq));
    };
    const namesOf = async (service: EventService, orderId: string) =>
      (await rowsOf(service, orderId)).map((row) => parseEventEnvelope(row.envelope).type.split('.')[2]);

    /** Asserts the one row `service` holds for the order is a valid `name` envelope with `data`; returns it. */
    async function expectOneEvent<S extends EventService, N extends EventName<S>>(
      service: S,
      name: N,
      orderId: string,
      data: EventData<S, N>,
    ) {
      const rows = await rowsOf(service, orderId);
      expect(rows).toHaveLength(1);
      return expectEvent(rows[0], service, name, orderId, data);
    }

    function expectEvent<S extends EventService, N extends EventName<S>>(
      row: Awaited<ReturnType<typeof rowsOf>>[number] | undefined,
      service: S,
      name: N,
      orderId: string,
      data: EventData<S, N>,
    ) {
      if (!row) throw new Error(`no ${name} row`);
      const envelope = parseEventEnvelope(row.envelope);
      expect(envelope).toMatchObject({
        specversion: '1.0',
        source: eventSource(service),
        type: eventType(service, name),
        subject: orderId,
        datacontenttype: 'application/json',
        data,
      });
      expect(row.eventId).toBe(envelope.id);
      expect(row.subject).toBe(eventSubject(service, name, orderId));
      expect(row.publishedAt).toBeNull();
      return envelope;
    }

    describe('orders', () => {
      it('createOrderRecord appends OrderPlaced once, a retry nothing', async () => {
        const orderId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(orderId));
        await runActivity(orders.createOrderRecord, orderInput(orderId));
        await expectOneEvent('orders', 'OrderPlaced', orderId, {
          orderId,
          customerId: 'cust-7',
          clientId: 'app-1',
          items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
          totalCents: 2598,
        });
      });

      it('setOrderStatus appends a change per applied write, and the end when terminal', async () => {
        const orderId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(orderId));
        await runActivity(orders.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 });
        await runActivity(orders.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 }); // repeated
        await runActivity(orders.setOrderStatus, { orderId, status: 'CHARGING', seq: 2 });
        await runActivity(orders.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 }); // stale
        await runActivity(orders.setOrderStatus, { orderId, status: 'COMPLETED', seq: 3 });
        await runActivity(orders.setOrderStatus, { orderId, status: 'COMPLETED', seq: 3 }); // repeated

        const rows = await rowsOf('orders', orderId);
        expect(rows.map((row) => parseEventEnvelope(row.envelope).type.split('.')[2])).toEqual([
          'OrderPlaced',
          'OrderStatusChanged',
          'OrderStatusChanged',
          'OrderStatusChanged',
          'OrderCompleted',
        ]);
        expectEvent(rows[1], 'orders', 'OrderStatusChanged', orderId, {
          orderId,
          status: 'RESERVING',
          previousStatus: 'PENDING',
        });
        expectEvent(rows[3], 'orders', 'OrderStatusChanged', orderId, {
          orderId,
          status: 'COMPLETED',
          previousStatus: 'CHARGING',
        });
        expectEvent(rows[4], 'orders', 'OrderCompleted', orderId, { orderId, totalCents: 2598 });
        expect(new Set(rows.map((row) => row.eventId)).size).toBe(rows.length);
      });

      it('a failed order carries its failure code and reason; a cancelled one ends with OrderCancelled', async () => {
        const failedId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(failedId));
        await runActivity(orders.setOrderStatus, {
          orderId: failedId,
          status: 'FAILED',
          seq: 1,
          failureCode: PAYMENT_DECLINED,
          failureReason: 'card declined',
        });
        const failed = await rowsOf('orders', failedId);
        expect(failed).toHaveLength(3);
        expectEvent(failed[2], 'orders', 'OrderFailed', failedId, {
          orderId: failedId,
          failureCode: PAYMENT_DECLINED,
          reason: 'card declined',
        });

        const bareId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(bareId));
        await runActivity(orders.setOrderStatus, { orderId: bareId, status: 'FAILED', seq: 1 });
        expectEvent((await rowsOf('orders', bareId))[2], 'orders', 'OrderFailed', bareId, {
          orderId: bareId,
          failureCode: null,
          // What a consumer shows for it: the exact text, not whatever the constant says.
          reason: 'no reason recorded',
        });
        expect(NO_FAILURE_REASON).toBe('no reason recorded');

        const cancelledId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(cancelledId));
        await runActivity(orders.setOrderStatus, { orderId: cancelledId, status: 'CANCELLED', seq: 1 });
        expect(await namesOf('orders', cancelledId)).toEqual([
          'OrderPlaced',
          'OrderStatusChanged',
          'OrderCancelled',
        ]);
      });

      it('COMPENSATION_FAILED is a status change, not an end', async () => {
        const orderId = uniqueId('order');
        await runActivity(orders.createOrderRecord, orderInput(orderId));
        await runActivity(orders.setOrderStatus, { orderId, status: 'COMPENSATION_FAILED', seq: 1 });
        expect(await namesOf('orders', orderId)).toEqual(['OrderPlaced', 'OrderStatusChanged']);
      });

      it('a status write that creates the missing row also records the order as placed', async () => {
        const orderId = uniqueId('order');
        const write = {
          orderId,
          status: 'CANCELLED' as const,
          seq: 2,
          clientId: 'app-1',
          view: viewOf(orderId, 'CANCELLED'),
        };
        await runActivity(orders.setOrderStatus, write);
        await runActivity(orders.setOrderStatus, write);
        const rows = await rowsOf('orders', orderId);
        expect(rows).toHaveLength(3);
        expectEvent(rows[0], 'orders', 'OrderPlaced', orderId, {
          orderId,
          customerId: 'cust-7',
          clientId: 'app-1',
          items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1299 }],
          totalCents: 2598,
        });
        expectEvent(rows[1], 'orders', 'OrderStatusChanged', orderId, {
          orderId,
          status: 'CANCELLED',
          previousStatus: null,
        });
        expectEvent(rows[2], 'orders', 'OrderCancelled', orderId, { orderId });
      });

      it("the saga's first status write records the order as placed, then its move from PENDING, once", async () => {
        const orderId = uniqueId('order');
        const write = {
          orderId,
          status: 'RESERVING' as const,
          seq: 1,
          clientId: 'app-1',
          view: viewOf(orderId, 'RESERVING'),
          firstWrite: { requestHash: 'hash-1' },
        };
        await runActivity(orders.setOrderStatus, write);
        await runActivity(orders.setOrderStatus, write);
        const rows = await rowsOf('orders', orderId);
        expect(await namesOf('orders', orderId)).toEqual(['OrderPlaced', 'OrderStatusChanged']);
        expectEvent(rows[1], 'orders', 'OrderStatusChanged', orderId, {
          orderId,
          status: 'RESERVING',
          previousStatus: 'PENDING',
        });
      });

      it('a status write for a row that does not exist yet appends nothing', async () => {
        const orderId = uniqueId('order');
        await expect(
          runActivity(orders.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 }),
        ).rejects.toThrow(/does not exist yet/);
        expect(await rowsOf('orders', orderId)).toEqual([]);
      });
    });

    describe('inventory', () => {
      it('reserve, release and commit append their event with the reservation lines, once each', async () => {
        const [a, b] = [await addProduct(db, 10, 'EVA'), await addProduct(db, 10, 'EVB')];
        const reserved = uniqueId('order');
        const input = {
          orderId: reserved,
          items: [
            { sku: b, quantity: 1 },
            { sku: a, quantity: 2 },
            { sku: b, quantity: 3 },
          ],
        };
        await runActivity(inventory.reserveStock, input);
        await runActivity(inventory.reserveStock, input);
        const items = [
          { sku: a, quantity: 2 },
          { sku: b, quantity: 4 },
        ].sort((x, y) => (x.sku < y.sku ? -1 : 1));
        await expectOneEvent('inventory', 'StockReserved', reserved, { orderId: reserved, items });

        await runActivity(inventory.releaseStock, { orderId: reserved });
        await runActivity(inventory.releaseStock, { orderId: reserved });
        const released = await rowsOf('inventory', reserved);
        expect(released).toHaveLength(2);
        expectEvent(released[1], 'inventory', 'StockReleased', reserved, { orderId: reserved, items });

        const committed = uniqueId('order');
        await runActivity(inventory.reserveStock, { orderId: committed, items: [{ sku: a, quantity: 1 }] });
        await runActivity(inventory.commitStock, { orderId: committed });
        await runActivity(inventory.commitStock, { orderId: committed });
        const rows = await rowsOf('inventory', committed);
        expect(rows).toHaveLength(2);
        expectEvent(rows[1], 'inventory', 'StockCommitted', committed, {
          orderId: committed,
          items: [{ sku: a, quantity: 1 }],
        });
      });

      it('a release that finds no reservation records an empty release (its tombstone)', async () => {
        const orderId = uniqueId('order');
        await runActivity(inventory.releaseStock, { orderId });
        await expectOneEvent('inventory', 'StockReleased', orderId, { orderId, items: [] });
        // The late reserve takes nothing, so it reports nothing.
        const sku = await addProduct(db, 5, 'EVLATE');
        await runActivity(inventory.reserveStock, { orderId, items: [{ sku, quantity: 1 }] });
        expect(await rowsOf('inventory', orderId)).toHaveLength(1);
      });

      it('an out-of-stock reserve rolls back and leaves no event', async () => {
        const [plenty, scarce] = [await addProduct(db, 10, 'EVOK'), await addProduct(db, 1, 'EVLOW')];
        const orderId = uniqueId('order');
        await expectBusinessFailure(
          runActivity(inventory.reserveStock, {
            orderId,
            items: [
              { sku: plenty, quantity: 1 },
              { sku: scarce, quantity: 2 },
            ],
          }),
          OUT_OF_STOCK,
        );
        expect(await rowsOf('inventory', orderId)).toEqual([]);
      });
    });

    describe('payments', () => {
      it('a charge appends PaymentCharged once and carries no trace of the token', async () => {
        const orderId = uniqueId('order');
        const token = `tok_secret_${uniqueId('card')}`;
        const input = { orderId, amountCents: 4200, paymentToken: token };
        const first = await runActivity(payments.chargePayment, input);
        await runActivity(payments.chargePayment, input);
        await expectOneEvent('payments', 'PaymentCharged', orderId, {
          orderId,
          chargeId: first.chargeId as string,
          amountCents: 4200,
        });
        const stored = JSON.stringify(await rowsOf('payments', orderId));
        expect(stored).not.toContain(token);
        expect(stored).not.toContain(token.slice('tok_secret_'.length));
      });

      it('a declined charge leaves no event', async () => {
        const orderId = uniqueId('order');
        await expectBusinessFailure(
          runActivity(payments.chargePayment, { orderId, amountCents: 100, paymentToken: TOKEN_DECLINED }),
          PAYMENT_DECLINED,
        );
        expect(await rowsOf('payments', orderId)).toEqual([]);
      });

      it('a refund appends PaymentRefunded once; a refund of nothing is no refund', async () => {
        const orderId = uniqueId('order');
        await runActivity(payments.chargePayment, { orderId, amountCents: 999, paymentToken: 'tok_ok' });
        const refund = await runActivity(payments.refundPayment, { orderId });
        await runActivity(payments.refundPayment, { orderId });
        expect(refund.status).toBe('REFUNDED');
        const rows = await rowsOf('payments', orderId);
        expect(rows).toHaveLength(2);
        expectEvent(rows[1], 'payments', 'PaymentRefunded', orderId, {
          orderId,
          refundId: expect.any(String),
          amountCents: 999,
        });

        const neverCharged = uniqueId('order');
        const voided = await runActivity(payments.refundPayment, { orderId: neverCharged });
        expect(voided).toMatchObject({ status: 'NOT_CHARGED', changed: true });
        expect(await rowsOf('payments', neverCharged)).toEqual([]);
      });
    });

    describe('shipping', () => {
      it('a shipment appends ShipmentCreated once and carries no part of the address', async () => {
        const orderId = uniqueId('order');
        const first = await runActivity(shipping.createShipment, { orderId, address });
        await runActivity(shipping.createShipment, { orderId, address });
        await expectOneEvent('shipping', 'ShipmentCreated', orderId, {
          orderId,
          trackingId: first.trackingId as string,
        });
        const stored = JSON.stringify(await rowsOf('shipping', orderId));
        for (const part of [address.name, address.line1, address.city, address.postalCode]) {
          expect(stored).not.toContain(part);
        }

        await runActivity(shipping.cancelShipment, { orderId });
        await runActivity(shipping.cancelShipment, { orderId });
        const rows = await rowsOf('shipping', orderId);
        expect(rows).toHaveLength(2);
        expectEvent(rows[1], 'shipping', 'ShipmentCancelled', orderId, {
          orderId,
          trackingId: first.trackingId,
        });
      });

      it('a cancel before any shipment records a cancel without tracking id; the late create nothing', async () => {
        const orderId = uniqueId('order');
        await runActivity(shipping.cancelShipment, { orderId });
        await runActivity(shipping.createShipment, { orderId, address });
        await expectOneEvent('shipping', 'ShipmentCancelled', orderId, { orderId, trackingId: null });
      });

      it('an undeliverable address leaves no event', async () => {
        const orderId = uniqueId('order');
        await expectBusinessFailure(
          runActivity(shipping.createShipment, {
            orderId,
            address: { ...address, country: UNDELIVERABLE_COUNTRY },
          }),
          ADDRESS_UNDELIVERABLE,
        );
        expect(await rowsOf('shipping', orderId)).toEqual([]);
      });
    });
  });
}
