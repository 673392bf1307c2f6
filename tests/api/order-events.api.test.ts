/**
 * Following an order over HTTP against the real stack (workers relaying to the run's NATS server): its events as
 * JSON and as Server-Sent Events (ends with the terminal event, resumes after Last-Event-ID), its notifications,
 * tenancy (another client's key gets 404), and 503s when the API has no broker, it is down, or too many streams
 * are open. Orders placed through the API get their events from the relays; orders recorded by the test itself
 * (no saga) get events the test publishes, so live delivery is tested event by event.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { TERMINAL_GRACE_MS } from '../../api/orders/event-routes.js';
import { type EventData, type EventName, eventSubject } from '../../contracts/events.js';
import type { OrderStatus } from '../../contracts/orders.js';
import { createLogger } from '../../core/logger.js';
import { notifications } from '../../db/schema/notifications.js';
import { orders } from '../../db/schema/orders.js';
import { buildEventEnvelope } from '../../events/envelope.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { freePort } from '../../harness/free-port.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import {
  ADMIN_KEY,
  AUTH_ENV,
  type CallOptions,
  CLIENT_ID,
  CLIENT_KEY,
  call,
  eventually,
  OTHER_CLIENT_KEY,
  orderBody,
  problemSlug,
} from './http.js';

const logger = createLogger('test', 'silent');
let stack: TestStack;
let nats: NatsClient;
const extraNats: NatsClient[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    env: AUTH_ENV,
    natsUrl: inject('natsUrl'),
  });
  nats = createNatsClient({ servers: [inject('natsUrl')], name: 'order-events-test', logger });
});

afterAll(async () => {
  for (const client of extraNats) await client.close();
  await nats?.close();
  await stack?.stop();
});

const send = (method: string, path: string, options?: CallOptions) =>
  call(stack.baseUrl, method, path, options);

/** One Server-Sent Event as received. */
interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A Server-Sent Events answer being read in the background. */
interface SseReading {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
  /** Resolves when the server ended the stream (rejects if `stop()` or the timeout ended it first). */
  ended: Promise<void>;
  /** Waits until `events` satisfies `ok` (or throws after `ms`). */
  until(ok: (events: SseEvent[]) => boolean, ms?: number): Promise<void>;
  /** Goes away, as a client closing the page would. */
  stop(): void;
}

/** Opens `path` with `Accept: text/event-stream` and parses frames as they arrive. */
async function openEvents(
  path: string,
  options: { key?: string; headers?: Record<string, string>; timeoutMs?: number; baseUrl?: string } = {},
): Promise<SseReading> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('SSE read timed out')), options.timeoutMs ?? 45_000);
  const response = await fetch(`${options.baseUrl ?? stack.baseUrl}${path}`, {
    headers: {
      accept: 'text/event-stream',
      authorization: `Bearer ${options.key ?? CLIENT_KEY}`,
      ...options.headers,
    },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const read = async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    // Node's web streams are async iterable (the DOM typings some GraphQL packages pull in do not say so).
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string[]> = {};
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const at = line.indexOf(':');
            const name = at < 0 ? line : line.slice(0, at);
            const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
            fields[name] = [...(fields[name] ?? []), value];
          }
        }
        if (fields.data) {
          events.push({ id: fields.id?.[0], event: fields.event?.[0], data: fields.data.join('\n') });
        }
      }
    }
  };
  const ended = read().finally(() => clearTimeout(timer));
  ended.catch(() => {});
  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    ended,
    async until(ok, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!ok(events)) {
        if (Date.now() > deadline) throw new Error(`SSE: condition not met; got ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => abort.abort(new Error('client went away')),
  };
}

const typeOf = (name: string, service = 'orders') => `order-saga.${service}.${name}.v1`;
const namesOf = (items: Array<{ type: string }>) => items.map((item) => item.type.split('.')[2]);

/** An order recorded as the orders service would, without a saga: its events are the ones the test publishes. */
async function recordOrder(status: OrderStatus, clientId = CLIENT_ID): Promise<string> {
  const orderId = `ord_${randomBytes(16).toString('hex')}`;
  await stack.database.db
    .insert(orders)
    .values({ orderId, customerId: 'cust-events', clientId, items: [], totalCents: 0, status });
  return orderId;
}

/** Publishes one orders event of `orderId` as a relay would (Nats-Msg-Id = event id); returns its sequence. */
async function publish<N extends EventName<'orders'>>(
  orderId: string,
  name: N,
  data: EventData<'orders', N>,
): Promise<number> {
  const envelope = buildEventEnvelope('orders', name, orderId, data);
  const js = await nats.jetstream();
  const ack = await js.publish(eventSubject('orders', name, orderId), JSON.stringify(envelope), {
    msgID: envelope.id,
  });
  return ack.seq;
}

/**
 * The data of a published order's OrderPlaced: the test publishes one before any terminal event, as the saga does,
 * so the notifications consumers sharing the run's stream can handle what follows.
 */
const placedData = (orderId: string): EventData<'orders', 'OrderPlaced'> => ({
  orderId,
  customerId: 'cust-events',
  clientId: CLIENT_ID,
  items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1299 }],
  totalCents: 1299,
});

/** An app of its own on the stack's Temporal and database, with other event settings. */
function appWith(overrides: Partial<Parameters<typeof createApp>[0]>) {
  return createApp({
    temporal: stack.client,
    db: stack.database.db,
    pingDatabase: () => stack.database.ping(),
    auth: stack.config.auth,
    logger,
    ...overrides,
  });
}

describe('a placed order, through the relays', () => {
  let orderId: string;
  let items: Array<{
    sequence: number;
    id: string;
    type: string;
    source: string;
    time: string;
    data: Record<string, unknown>;
  }>;

  beforeAll(async () => {
    const placed = await send('POST', '/v1/orders?wait=30', {
      body: orderBody({ customerId: 'cust-events' }),
    });
    expect(placed.status).toBe(200);
    expect(placed.json.status).toBe('COMPLETED');
    expect(placed.json.links.events).toBe(`/v1/orders/${placed.json.orderId}/events`);
    orderId = placed.json.orderId;
    const listed = await eventually(
      () => send('GET', `/v1/orders/${orderId}/events`),
      (res) => res.status === 200 && namesOf(res.json.items).includes('OrderCompleted'),
      15_000,
    );
    expect(listed.status).toBe(200);
    items = listed.json.items;
  });

  it('GET events lists them oldest first: OrderPlaced first, OrderCompleted among them, sequences increasing', () => {
    const names = namesOf(items);
    expect(names[0]).toBe('OrderPlaced');
    expect(names).toContain('OrderCompleted');
    expect(names).toEqual(expect.arrayContaining(['StockReserved', 'PaymentCharged', 'ShipmentCreated']));
    const sequences = items.map((item) => item.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    const placed = items[0];
    expect(placed).toMatchObject({ type: typeOf('OrderPlaced'), source: '/order-saga/orders' });
    expect(placed?.data).toMatchObject({ orderId, clientId: CLIENT_ID, customerId: 'cust-events' });
    expect(JSON.stringify(items)).not.toContain('tok_ok'); // no payment token in any event
  });

  it('SSE of an order that already ended replays its events and ends at once', async () => {
    const started = Date.now();
    const sse = await openEvents(`/v1/orders/${orderId}/events`);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await sse.ended;
    expect(Date.now() - started).toBeLessThan(TERMINAL_GRACE_MS);
    expect(sse.events.map((e) => Number(e.id))).toEqual(items.map((item) => item.sequence));
    expect(sse.events.map((e) => e.event)).toEqual(items.map((item) => item.type));
    const last = JSON.parse(sse.events.at(-1)?.data ?? '{}');
    expect(last).toMatchObject({ specversion: '1.0', type: typeOf('OrderCompleted'), subject: orderId });
  });

  it('Last-Event-ID resumes after that sequence, without repeats (SSE and JSON)', async () => {
    const from = items[2]?.sequence as number;
    const rest = items.filter((item) => item.sequence > from);
    const sse = await openEvents(`/v1/orders/${orderId}/events`, {
      headers: { 'last-event-id': String(from) },
    });
    await sse.ended;
    expect(sse.events.map((e) => Number(e.id))).toEqual(rest.map((item) => item.sequence));
    const json = await send('GET', `/v1/orders/${orderId}/events`, {
      headers: { 'last-event-id': String(from) },
    });
    expect(json.json.items.map((item: { sequence: number }) => item.sequence)).toEqual(
      rest.map((item) => item.sequence),
    );
    const invalid = await send('GET', `/v1/orders/${orderId}/events`, {
      headers: { 'last-event-id': 'abc' },
    });
    expect(invalid.status).toBe(400);
    expect(problemSlug(invalid)).toBe('invalid-parameter');
  });

  it("another client's key gets 404 for its events and notifications; an admin key sees them", async () => {
    for (const path of [`/v1/orders/${orderId}/events`, `/v1/orders/${orderId}/notifications`]) {
      const other = await send('GET', path, { key: OTHER_CLIENT_KEY });
      expect(other.status).toBe(404);
      expect(problemSlug(other)).toBe('not-found');
      expect((await send('GET', path, { key: ADMIN_KEY })).status).toBe(200);
    }
    const sse = await openEvents(`/v1/orders/${orderId}/events`, { key: OTHER_CLIENT_KEY });
    expect(sse.status).toBe(404);
    expect(sse.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const unknown = await send('GET', `/v1/orders/ord_${'0'.repeat(32)}/events`);
    expect(unknown.status).toBe(404);
  });
});

it('the SSE stream of a new order ends with its terminal event', async () => {
  const placed = await send('POST', '/v1/orders', { body: orderBody({ customerId: 'cust-events-live' }) });
  expect(placed.status).toBe(202);
  const sse = await openEvents(`/v1/orders/${placed.json.orderId}/events`);
  expect(sse.status).toBe(200);
  await sse.ended;
  const names = sse.events.map((e) => e.event?.split('.')[2]);
  expect(names[0]).toBe('OrderPlaced');
  expect(names.at(-1)).toBe('OrderCompleted');
  const sequences = sse.events.map((e) => Number(e.id));
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  expect(sse.comments[0]).toBe(`order ${placed.json.orderId}`);
});

describe('an order whose events the test publishes', () => {
  it('streams each event as it is published and ends after the terminal one', async () => {
    const orderId = await recordOrder('RESERVING');
    const sse = await openEvents(`/v1/orders/${orderId}/events`);
    expect(sse.status).toBe(200);
    const placed = await publish(orderId, 'OrderPlaced', placedData(orderId));
    await sse.until((events) => events.length === 1);
    expect(sse.events[0]).toMatchObject({ id: String(placed), event: typeOf('OrderPlaced') });
    await publish(orderId, 'OrderStatusChanged', { orderId, status: 'RESERVING', previousStatus: 'PENDING' });
    await sse.until((events) => events.length === 2);
    const done = await publish(orderId, 'OrderFailed', {
      orderId,
      failureCode: 'OutOfStock',
      reason: 'no mugs',
    });
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual([
      typeOf('OrderPlaced'),
      typeOf('OrderStatusChanged'),
      typeOf('OrderFailed'),
    ]);
    expect(sse.events.at(-1)?.id).toBe(String(done));
    // What came after the end is not the stream's any more: nothing is sent twice on a resume either.
    const resumed = await openEvents(`/v1/orders/${orderId}/events`, {
      headers: { 'last-event-id': String(placed) },
    });
    await resumed.ended;
    expect(resumed.events.map((e) => e.event)).toEqual([typeOf('OrderStatusChanged'), typeOf('OrderFailed')]);
  });

  it('the stream of an order recorded as ended, whose terminal event is not in the stream, ends after the grace', async () => {
    const orderId = await recordOrder('CANCELLED');
    await publish(orderId, 'OrderPlaced', placedData(orderId));
    await publish(orderId, 'OrderCancelled', { orderId });
    const other = await recordOrder('COMPLETED');
    await publish(other, 'OrderStatusChanged', {
      orderId: other,
      status: 'SHIPPING',
      previousStatus: 'CHARGING',
    });
    const started = Date.now();
    const sse = await openEvents(`/v1/orders/${other}/events`);
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual([typeOf('OrderStatusChanged')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TERMINAL_GRACE_MS - 100);
    expect(Date.now() - started).toBeLessThan(TERMINAL_GRACE_MS + 5_000);
    // Its own terminal event ends a replay at once.
    const quick = await openEvents(`/v1/orders/${orderId}/events`);
    await quick.ended;
    expect(quick.events.map((e) => e.event)).toEqual([typeOf('OrderPlaced'), typeOf('OrderCancelled')]);
  });

  it('a client that goes away releases its stream: the cap counts open streams only', async () => {
    const orderId = await recordOrder('CHARGING');
    const api = appWith({ events: nats, settings: { maxEventStreams: 1 } });
    const headers = { accept: 'text/event-stream', authorization: `Bearer ${CLIENT_KEY}` };
    const first = await api.request(`/v1/orders/${orderId}/events`, { headers });
    expect(first.status).toBe(200);
    const second = await api.request(`/v1/orders/${orderId}/events`, { headers });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBeTruthy();
    expect(((await second.json()) as { type: string }).type).toMatch(/overloaded$/);
    expect(await (await api.request('/metrics')).text()).toMatch(/^api_event_streams_open 1$/m);
    // JSON reads are not streams: they still work.
    expect(
      (
        await api.request(`/v1/orders/${orderId}/events`, {
          headers: { authorization: headers.authorization },
        })
      ).status,
    ).toBe(200);
    await first.body?.cancel();
    const third = await eventually(
      async () => api.request(`/v1/orders/${orderId}/events`, { headers }),
      (res) => res.status === 200,
      5_000,
      100,
    );
    expect(third.status).toBe(200);
    await third.body?.cancel();
  });
});

describe('notifications', () => {
  it("lists the order's notifications oldest first; another client gets 404", async () => {
    const orderId = await recordOrder('COMPLETED');
    const empty = await send('GET', `/v1/orders/${orderId}/notifications`);
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ orderId, items: [] });
    const eventId = randomUUID();
    await stack.database.db.insert(notifications).values([
      {
        orderId,
        kind: 'OrderCompleted' as const,
        channel: 'email',
        message: 'Your order is complete',
        eventId,
        sentAt: new Date('2026-01-31T12:00:00Z'),
      },
      {
        orderId,
        kind: 'PaymentRefunded' as const,
        channel: 'email',
        message: 'Refunded',
        eventId: randomUUID(),
        sentAt: new Date('2026-01-31T12:05:00Z'),
      },
    ]);
    const listed = await send('GET', `/v1/orders/${orderId}/notifications`);
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual([
      {
        kind: 'OrderCompleted',
        channel: 'email',
        message: 'Your order is complete',
        eventId,
        sentAt: '2026-01-31T12:00:00.000Z',
      },
      expect.objectContaining({ kind: 'PaymentRefunded' }),
    ]);
    expect((await send('GET', `/v1/orders/${orderId}/notifications`, { key: OTHER_CLIENT_KEY })).status).toBe(
      404,
    );
  });
});

describe('without a usable broker', () => {
  const authorization = { authorization: `Bearer ${CLIENT_KEY}` };

  it('answers 503 events-unavailable with Retry-After when the API has no NATS_URL', async () => {
    const orderId = await recordOrder('PENDING');
    const api = appWith({});
    for (const accept of ['application/json', 'text/event-stream']) {
      const res = await api.request(`/v1/orders/${orderId}/events`, {
        headers: { ...authorization, accept },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      const body = (await res.json()) as { type: string; detail: string };
      expect(body.type).toMatch(/events-unavailable$/);
      expect(body.detail).toMatch(/NATS_URL/);
    }
    // Notifications need no broker.
    expect(
      (await api.request(`/v1/orders/${orderId}/notifications`, { headers: authorization })).status,
    ).toBe(200);
  });

  it('answers 503 + Retry-After within its deadline when NATS does not answer', async () => {
    const orderId = await recordOrder('PENDING');
    const down = createNatsClient({
      servers: [`nats://127.0.0.1:${await freePort()}`],
      name: 'down',
      logger,
    });
    extraNats.push(down);
    const api = appWith({ events: down, settings: { temporalTimeoutMs: 500, retryAfterSeconds: 3 } });
    for (const accept of ['application/json', 'text/event-stream']) {
      const started = Date.now();
      const res = await api.request(`/v1/orders/${orderId}/events`, {
        headers: { ...authorization, accept },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(((await res.json()) as { type: string }).type).toMatch(/events-unavailable$/);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents both routes, the event stream and Last-Event-ID', async () => {
    const doc = (await send('GET', '/openapi.json', { key: null })).json;
    const events = doc.paths['/v1/orders/{orderId}/events'].get;
    expect(Object.keys(events.responses['200'].content).sort()).toEqual([
      'application/json',
      'text/event-stream',
    ]);
    expect(events.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'last-event-id',
      'orderId',
    ]);
    expect(events.responses['404']).toBeDefined();
    expect(events.responses['503'].headers['Retry-After'].required).toBe(true);
    const notes = doc.paths['/v1/orders/{orderId}/notifications'].get;
    expect(notes.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/OrderNotifications',
    );
    expect(doc.paths['/v1/orders'].post.responses['202'].links.GetOrderEvents.operationId).toBe(
      'getOrderEvents',
    );
  });
});
