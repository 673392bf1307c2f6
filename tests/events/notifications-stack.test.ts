/**
 * The notifications service joined by events alone, end to end: the whole stack in process (dev server, workers
 * with their relays, the API, the notifications consumer) on the run's NATS server. An order that completes gets
 * one OrderCompleted notification; one that fails after its payment gets OrderFailed and PaymentRefunded ones;
 * each from the provider's text, and none twice.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { UNDELIVERABLE_COUNTRY } from '../../contracts/shipping.js';
import { notifications } from '../../db/schema/notifications.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { eventually, call as httpCall, ORDER_ADDRESS, orderBody } from '../api/http.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    natsUrl: inject('natsUrl'),
  });
});

afterAll(async () => {
  await stack?.stop();
});

const notificationsOf = (orderId: string) =>
  stack.database.db.select().from(notifications).where(eq(notifications.orderId, orderId));

async function place(body: Record<string, unknown>): Promise<{ orderId: string; status: string }> {
  const placed = await httpCall(stack.baseUrl, 'POST', '/v1/orders?wait=30', {
    body: orderBody(body),
    key: null,
  });
  expect(placed.status).toBe(200);
  return { orderId: placed.json.orderId, status: placed.json.status };
}

it('a completed order gets one OrderCompleted notification, from its events alone', async () => {
  const { orderId, status } = await place({
    customerId: 'cust-42',
    items: [{ sku: 'MUG-RED', quantity: 2 }],
  });
  expect(status).toBe('COMPLETED');
  const rows = await eventually(
    () => notificationsOf(orderId),
    (found) => found.length > 0,
    20_000,
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ kind: 'OrderCompleted', channel: 'email' });
  expect(rows[0]?.message).toMatch(new RegExp(`^Your order ${orderId} is confirmed`));
});

it('an order that fails after its payment gets OrderFailed and PaymentRefunded notifications', async () => {
  const { orderId, status } = await place({
    customerId: 'cust-43',
    shippingAddress: { ...ORDER_ADDRESS, country: UNDELIVERABLE_COUNTRY },
  });
  expect(status).toBe('FAILED');
  const rows = await eventually(
    () => notificationsOf(orderId),
    (found) => found.length >= 2,
    20_000,
  );
  expect(rows.map((row) => row.kind).sort()).toEqual(['OrderFailed', 'PaymentRefunded']);
  const refund = rows.find((row) => row.kind === 'PaymentRefunded');
  expect(refund?.message).toMatch(new RegExp(`^We refunded \\d+\\.\\d\\d for your order ${orderId}\\.$`));
});
