/**
 * Database errors leaving an activity: a value the database can never store fails at once instead of being retried
 * forever, and no failure carries the query's parameters (customer ids, reasons, items) into Temporal's history.
 */
import {
  ApplicationFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
  ensureApplicationFailure,
} from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError, INVALID_DATA, withDataErrorsNonRetryable } from '../../activities/data-errors.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { openDatabase } from '../../db/client.js';
import { products } from '../../db/schema/inventory.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { runActivity, uniqueId } from './helpers.js';

/** Every text a thrown error would put into a Temporal failure: messages, stacks, details, the whole cause chain. */
function failureText(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 10; depth += 1) {
    const e = current as { message?: unknown; stack?: unknown; details?: unknown; cause?: unknown };
    parts.push(String(e.message), String(e.stack), JSON.stringify(e.details ?? null));
    parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
    current = e.cause;
  }
  parts.push(
    JSON.stringify(temporalFailure(error), (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
    ),
  );
  return parts.join('\n');
}

/** The failure proto an activity worker records for `error` (as the SDK's activity runner converts it). */
function temporalFailure(error: unknown) {
  return defaultFailureConverter.errorToFailure(ensureApplicationFailure(error), defaultPayloadConverter);
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`withDataErrorsNonRetryable (${driver})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(driver);
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => database?.close(), DATABASE_HOOK_TIMEOUT_MS);

    it('makes an out-of-range value a non-retryable InvalidData failure that names no value', async () => {
      const orders = withDataErrorsNonRetryable(createOrdersActivities({ db: database.db }));
      const orderId = uniqueId('order');
      const customerId = uniqueId('cust-secret');
      const reason = `card of Zelda Quimby ${uniqueId('tag')} declined`;
      await runActivity(orders.createOrderRecord, {
        orderId,
        customerId,
        items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1200 }],
        totalCents: 1200,
        createdAt: new Date().toISOString(),
      });

      // status_seq is still a 32-bit column: 2^40 is out of range (SQLSTATE 22003).
      const error = await caught(
        runActivity(orders.setOrderStatus, {
          orderId,
          status: 'FAILED',
          seq: 2 ** 40,
          failureReason: reason,
          failureCode: 'PaymentDeclined',
        }),
      );

      const text = failureText(error);
      for (const secret of [customerId, reason, 'Zelda', String(2 ** 40), 'params:', orderId]) {
        expect(text).not.toContain(secret);
      }
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: INVALID_DATA, nonRetryable: true });
      expect(error.message).toContain('setOrderStatus');
      expect(error.message).toContain('SQLSTATE 22003');
      expect(error.message).toContain('orders.orders');
    });

    it('keeps a unique violation retryable, with its SQLSTATE, constraint and table but no value', async () => {
      const sku = uniqueId('SKU-secret');
      const activities = withDataErrorsNonRetryable({
        async addProduct(name: string) {
          await database.db.insert(products).values({ sku, name, priceCents: 100, available: 1 });
          await database.db.insert(products).values({ sku, name, priceCents: 100, available: 1 });
        },
      });

      const error = await caught(runActivity(activities.addProduct, 'Zelda Quimby mug'));

      const text = failureText(error);
      for (const secret of [sku, 'Zelda', 'params:']) expect(text).not.toContain(secret);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect(error.message).toContain('SQLSTATE 23505');
      expect(error.message).toContain('products_pkey');
      expect(error.message).toContain('inventory.products');
      // Retryable as Temporal sees it.
      expect(temporalFailure(error).applicationFailureInfo).toMatchObject({
        type: 'DatabaseError',
        nonRetryable: false,
      });
    });
  });
}

describe('withDataErrorsNonRetryable (no database reachable)', () => {
  it('strips the parameters from a connection error wrapping a query, and keeps it retryable', async () => {
    // Nothing listens on port 1: postgres.js fails to connect, drizzle wraps it with the query and its params.
    const unreachable = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', poolSize: 1 });
    const customerId = uniqueId('cust-secret');
    try {
      const activities = withDataErrorsNonRetryable({
        async addProduct() {
          await unreachable.db.insert(products).values({ sku: customerId, name: 'n', priceCents: 1 });
        },
      });
      const error = await caught(runActivity(activities.addProduct, undefined));
      const text = failureText(error);
      for (const secret of [customerId, 'params:']) expect(text).not.toContain(secret);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error.message).toContain('inventory.products');
      expect(error.message).toContain('ECONNREFUSED');
    } finally {
      await unreachable.close();
    }
  });

  it('lets other errors through unchanged (they stay retryable)', async () => {
    const failing = withDataErrorsNonRetryable({
      async flaky() {
        throw new Error('connection reset');
      },
    });
    await expect(failing.flaky()).rejects.toThrow('connection reset');
  });
});
