/**
 * End to end with events on: the whole stack (dev server, workers with their relays, the API) on the run's NATS
 * server. One completed order leaves each of its services' events in ORDER_EVENTS exactly once, each service's in
 * commit order, and every outbox row of the order marked published.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { EVENT_SERVICES, orderEventsFilter, parseEventType } from '../../contracts/events.js';
import { createLogger } from '../../core/logger.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { OUTBOX_TABLES } from '../../events/outbox.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { eventually, call as httpCall, orderBody } from '../api/http.js';
import { countStored, readStored } from './order-stream.js';

let stack: TestStack;
let nats: NatsClient;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    natsUrl: inject('natsUrl'),
  });
  nats = createNatsClient({
    servers: [inject('natsUrl')],
    name: 'saga-events-test',
    logger: createLogger('test', 'silent'),
  });
  js = await nats.jetstream();
  jsm = await nats.manager();
});

afterAll(async () => {
  await nats?.close();
  await stack?.stop();
});

/** Every outbox row of the order, across services. */
async function outboxRowsOf(orderId: string) {
  const rows = await Promise.all(
    EVENT_SERVICES.map((service) => {
      const outbox = OUTBOX_TABLES[service];
      return stack.database.db.select().from(outbox).where(eq(outbox.orderId, orderId));
    }),
  );
  return rows.flat();
}

it('a completed order yields each of its events in the stream exactly once', async () => {
  const placed = await httpCall(stack.baseUrl, 'POST', '/v1/orders?wait=30', {
    body: orderBody({ customerId: 'cust-events', items: [{ sku: 'MUG-RED', quantity: 1 }] }),
    key: null,
  });
  expect(placed.status).toBe(200);
  expect(placed.json.status).toBe('COMPLETED');
  const orderId: string = placed.json.orderId;

  // The last events commit with the saga's last step; their relays publish them a moment later.
  const rows = await eventually(
    () => outboxRowsOf(orderId),
    (all) => all.length > 0 && all.every((row) => row.publishedAt !== null),
    15_000,
  );
  expect(rows.every((row) => row.publishedAt !== null)).toBe(true);
  const filter = orderEventsFilter(orderId);
  await eventually(
    () => countStored(jsm, filter),
    (n) => n >= rows.length,
    10_000,
  );
  const stored = await readStored(js, jsm, filter);

  const ids = stored.map((s) => s.envelope.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(rows.map((row) => row.eventId)));
  expect(stored.map((s) => s.msgId)).toEqual(ids);

  const names = stored.map((s) => parseEventType(s.envelope.type)?.name);
  for (const name of [
    'OrderPlaced',
    'OrderCompleted',
    'StockReserved',
    'StockCommitted',
    'PaymentCharged',
    'ShipmentCreated',
  ]) {
    expect(
      names.filter((n) => n === name),
      name,
    ).toHaveLength(1);
  }
  for (const name of [
    'OrderFailed',
    'OrderCancelled',
    'StockReleased',
    'PaymentRefunded',
    'ShipmentCancelled',
  ]) {
    expect(names, name).not.toContain(name);
  }
  // Each service's events in its commit order (services publish independently of each other).
  const ofService = (service: string) =>
    stored
      .filter((s) => s.subject.startsWith(`events.${service}.`))
      .map((s) => parseEventType(s.envelope.type)?.name);
  const ordersEvents = ofService('orders');
  expect(ordersEvents[0]).toBe('OrderPlaced');
  expect(ordersEvents.at(-1)).toBe('OrderCompleted');
  expect(ofService('inventory')).toEqual(['StockReserved', 'StockCommitted']);
  for (const s of stored) {
    expect(s.envelope.subject).toBe(orderId);
    expect(JSON.stringify(s.envelope)).not.toMatch(/tok_|line1|postalCode/);
  }
}, 90_000);
