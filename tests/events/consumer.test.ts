/**
 * The event consumer runtime (events/consumer.ts) with the notifications service's handler, against the run's real
 * NATS server and real databases: an event delivered twice has one effect; a failing handler is retried with
 * backoff and then succeeds once; a consumer that dies inside the effect's transaction, or after its commit and
 * before its ack, leaves the effect applied once; poison (unreadable, invalid, refused for good, failing every
 * time, never answered) lands in ORDER_EVENTS_DLQ with its reason; and a database outage spends no delivery
 * (./consumer-restart.test.ts: NATS restarts). Each test has its own order id and durable, so they share the stream.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { and, eq } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotificationsHandler, notificationSubjects } from '../../consumers/notifications/handler.js';
import {
  createSimulatedProvider,
  notificationMessage,
  POISON_CUSTOMER,
  UNREACHABLE_CUSTOMER,
} from '../../consumers/notifications/provider.js';
import { eventSubject, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { DatabaseHandle } from '../../db/client.js';
import { notifications, notificationsInbox, orderCustomers } from '../../db/schema/notifications.js';
import {
  type EventConsumer,
  type EventConsumerOptions,
  type EventHandler,
  startEventConsumer,
} from '../../events/consumer.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { DEAD_LETTER_HEADERS, ensureStreams } from '../../events/streams.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { counter, deadLetter, orderEvents, publish, sleep, unique, until } from './consumer-fixtures.js';

const logger = createLogger('test', 'silent');
const STREAMS = loadConfig({}).events.streams;
const clients: NatsClient[] = [];

const natsClient = (url: string, name = 'consumer-test'): NatsClient => {
  const client = createNatsClient({ servers: [url], name, logger, retryDelayMs: 50, maxRetryDelayMs: 250 });
  clients.push(client);
  return client;
};

afterAll(async () => {
  for (const client of clients) await client.close();
});

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`event consumer (${driver})`, () => {
    let database: TestDatabase;
    let nats: NatsClient;
    let jsm: JetStreamManager;
    const running: Array<{ consumer: EventConsumer; name: string }> = [];

    beforeAll(async () => {
      database = await createTestDatabase(driver);
      nats = natsClient(inject('natsUrl'));
      jsm = await nats.manager();
      await ensureStreams(jsm, STREAMS);
    }, DATABASE_HOOK_TIMEOUT_MS);

    afterAll(async () => {
      for (const { consumer, name } of running) {
        await consumer.stop();
        await jsm.consumers.delete(ORDER_EVENTS_STREAM, name).catch(() => false);
      }
      await database?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    /** A consumer of one order's notification events with the real handler unless `handle` wraps it. */
    async function consume(
      orderId: string,
      overrides: Partial<EventConsumerOptions> & { wrap?: (real: EventHandler) => EventHandler } = {},
    ) {
      const registry = new Registry();
      const provider = createSimulatedProvider();
      const real = createNotificationsHandler({ provider });
      const { wrap, ...options } = overrides;
      const name = options.name ?? unique('t');
      const consumer = startEventConsumer({
        name,
        filterSubjects: notificationSubjects(orderId),
        inbox: notificationsInbox,
        database,
        nats,
        logger,
        registry,
        handle: wrap ? wrap(real) : real,
        backoffMs: [100, 200],
        ...options,
      });
      running.push({ consumer, name });
      await consumer.ready;
      return { consumer, name, registry, provider };
    }

    const rowsOf = (db: DatabaseHandle, orderId: string) =>
      db.db.select().from(notifications).where(eq(notifications.orderId, orderId));
    const inboxOf = (db: DatabaseHandle, consumer: string) =>
      db.db.select().from(notificationsInbox).where(eq(notificationsInbox.consumer, consumer));

    it('handles an event once even when the stream delivers it twice', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      const { name, registry, provider } = await consume(orderId);
      await publish(nats, events.placed);
      await publish(nats, events.completed);
      // The same event again under another message id: past the stream's dedupe, as after its window.
      await publish(nats, events.completed, `${events.completed.id}-again`);
      await until(
        async () =>
          (await counter(registry, 'saga_events_consumed_total', { outcome: 'duplicate' })) === 1 ||
          undefined,
        'the duplicate',
      );
      expect(await counter(registry, 'saga_events_consumed_total', { outcome: 'handled' })).toBe(2);
      const rows = await rowsOf(database, orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        kind: 'OrderCompleted',
        channel: 'email',
        eventId: events.completed.id,
        message: notificationMessage({ kind: 'OrderCompleted', data: events.completed.data }),
        providerRef: expect.stringMatching(/^sim-/),
      });
      expect(provider.sent).toHaveLength(1);
      expect((await inboxOf(database, name)).map((row) => row.eventId).sort()).toEqual(
        [events.placed.id, events.completed.id].sort(),
      );
      const [customer] = await database.db
        .select()
        .from(orderCustomers)
        .where(eq(orderCustomers.orderId, orderId));
      expect(customer?.customerId).toBe('cust-7');
      // Its lag, as JetStream counts it, is on /metrics at scrape time.
      expect(await registry.metrics()).toContain(`saga_consumer_pending{consumer="${name}"} 0`);
    });

    it('retries a handler that fails on the first delivery, then has one effect', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      const deliveries: number[] = [];
      const { registry } = await consume(orderId, {
        wrap: (real) => async (event, tx, delivery) => {
          if (event.id === events.refunded.id) {
            deliveries.push(delivery.deliveryCount);
            if (delivery.deliveryCount === 1) throw new Error('provider timed out');
          }
          await real(event, tx, delivery);
        },
      });
      await publish(nats, events.placed);
      await publish(nats, events.refunded);
      await until(
        async () => ((await rowsOf(database, orderId)).length === 1 ? true : undefined),
        'the notification',
      );
      expect(deliveries).toEqual([1, 2]);
      expect(
        await counter(registry, 'saga_events_consumed_total', { type: 'PaymentRefunded', outcome: 'retry' }),
      ).toBe(1);
      expect(
        await counter(registry, 'saga_events_consumed_total', {
          type: 'PaymentRefunded',
          outcome: 'handled',
        }),
      ).toBe(1);
      expect(await counter(registry, 'saga_events_redeliveries_total', {})).toBe(1);
      expect((await rowsOf(database, orderId))[0]?.kind).toBe('PaymentRefunded');
    });

    it('a consumer that dies inside the effect’s transaction leaves the effect applied once', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      const { provider } = await consume(orderId, {
        wrap: (real) => async (event, tx, delivery) => {
          await real(event, tx, delivery);
          // The effect is written; the process "dies" before its transaction commits.
          if (event.id === events.failed.id && delivery.deliveryCount === 1)
            throw new Error('killed mid-effect');
        },
      });
      await publish(nats, events.placed);
      await publish(nats, events.failed);
      await until(
        async () => ((await rowsOf(database, orderId)).length === 1 ? true : undefined),
        'the notification',
      );
      await sleep(300); // a second effect would show by now
      expect(await rowsOf(database, orderId)).toHaveLength(1);
      // The provider was called twice with one idempotency key: it sent one message.
      expect(provider.sent).toHaveLength(1);
    });

    it('a consumer that dies after the commit and before the ack leaves the effect applied once', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      const name = unique('t');
      const doomed = natsClient(inject('natsUrl'), 'doomed-consumer');
      let died = false;
      await consume(orderId, {
        name,
        nats: doomed,
        ackWaitMs: 1_000,
        wrap: (real) => async (event, tx, delivery) => {
          await real(event, tx, delivery);
          if (event.id === events.completed.id) {
            // Its connection goes before the commit returns: the ack is never sent.
            died = true;
            await doomed.close();
          }
        },
      });
      await publish(nats, events.placed);
      await publish(nats, events.completed);
      await until(async () => died || undefined, 'the doomed consumer to handle the event');
      // Another instance of the same durable gets the unacknowledged event after the ack wait.
      const { registry } = await consume(orderId, { name, ackWaitMs: 1_000 });
      await until(
        async () =>
          (await counter(registry, 'saga_events_consumed_total', {
            type: 'OrderCompleted',
            outcome: 'duplicate',
          })) === 1 || undefined,
        'the redelivered duplicate',
      );
      expect(await rowsOf(database, orderId)).toHaveLength(1);
      expect(await counter(registry, 'saga_events_redeliveries_total', {})).toBe(1);
    });

    it('dead-letters what cannot be read, with the reason and the original bytes, at the first delivery', async () => {
      const orderId = unique('o');
      const { name, registry } = await consume(orderId);
      const js = await nats.jetstream();
      const garbage = eventSubject('orders', 'OrderCompleted', orderId);
      const body = new TextEncoder().encode('{"specversion": "1.0", not json');
      const ack = await js.publish(garbage, body);
      const letter = await deadLetter(jsm, name, garbage);
      expect(letter.header.get(DEAD_LETTER_HEADERS.reason)).toMatch(/^not a valid event: .*JSON/);
      expect(letter.header.get(DEAD_LETTER_HEADERS.originalSubject)).toBe(garbage);
      expect(letter.header.get(DEAD_LETTER_HEADERS.originalSeq)).toBe(String(ack.seq));
      expect(letter.header.get(DEAD_LETTER_HEADERS.deliveries)).toBe('1');
      expect(Buffer.from(letter.data)).toEqual(Buffer.from(body));

      // Valid JSON breaking the contract (no data): the reason names what is wrong.
      const { data: _data, ...noData } = orderEvents(orderId, 'cust-7').failed;
      const invalid = eventSubject('orders', 'OrderFailed', orderId);
      await js.publish(invalid, JSON.stringify(noData));
      const second = await deadLetter(jsm, name, invalid);
      expect(second.header.get(DEAD_LETTER_HEADERS.reason)).toMatch(/^not a valid event: .*data/);
      expect(await counter(registry, 'saga_events_dead_letters_total', {})).toBe(2);
      expect(
        await counter(registry, 'saga_events_consumed_total', { type: 'invalid', outcome: 'dead_letter' }),
      ).toBe(2);
      expect(await inboxOf(database, name)).toEqual([]);
    });

    it('dead-letters an event refused for good at once, and one that fails every time after max deliveries', async () => {
      const poisonOrder = unique('o');
      const unreachableOrder = unique('o');
      const poison = orderEvents(poisonOrder, POISON_CUSTOMER);
      const unreachable = orderEvents(unreachableOrder, UNREACHABLE_CUSTOMER);
      const { name, registry } = await consume(poisonOrder, {
        filterSubjects: [...notificationSubjects(poisonOrder), ...notificationSubjects(unreachableOrder)],
        maxDeliver: 3,
        backoffMs: [100, 200],
      });
      for (const event of [poison.placed, poison.completed, unreachable.placed, unreachable.completed]) {
        await publish(nats, event);
      }
      const refused = await deadLetter(jsm, name, eventSubject('orders', 'OrderCompleted', poisonOrder));
      expect(refused.header.get(DEAD_LETTER_HEADERS.reason)).toBe(
        `provider rejects customer ${POISON_CUSTOMER} for good`,
      );
      expect(refused.header.get(DEAD_LETTER_HEADERS.deliveries)).toBe('1');
      expect(JSON.parse(new TextDecoder().decode(refused.data)).id).toBe(poison.completed.id);

      const exhausted = await deadLetter(
        jsm,
        name,
        eventSubject('orders', 'OrderCompleted', unreachableOrder),
      );
      expect(exhausted.header.get(DEAD_LETTER_HEADERS.reason)).toBe(
        `handler failed on delivery 3 of 3: provider unreachable for customer ${UNREACHABLE_CUSTOMER}`,
      );
      expect(exhausted.header.get(DEAD_LETTER_HEADERS.deliveries)).toBe('3');
      expect(
        await counter(registry, 'saga_events_consumed_total', { type: 'OrderCompleted', outcome: 'retry' }),
      ).toBe(2);
      expect(await counter(registry, 'saga_events_dead_letters_total', {})).toBe(2);
      // Nothing was sent or recorded for them: a re-drive after a fix handles them as new.
      expect(await rowsOf(database, poisonOrder)).toEqual([]);
      expect(await rowsOf(database, unreachableOrder)).toEqual([]);
      const inbox = (await inboxOf(database, name)).map((row) => row.eventId);
      expect(inbox.sort()).toEqual([poison.placed.id, unreachable.placed.id].sort());
      // The durable no longer holds them.
      const info = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
      expect(info.num_ack_pending).toBe(0);
    });

    it('dead-letters an event whose last delivery was never answered (the consumer died on it)', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      const name = unique('t');
      const doomed = natsClient(inject('natsUrl'), 'doomed-consumer');
      let died = false;
      await consume(orderId, {
        name,
        nats: doomed,
        maxDeliver: 1,
        ackWaitMs: 1_000,
        wrap: (real) => async (event, tx, delivery) => {
          if (event.id === events.completed.id) {
            died = true;
            await doomed.close();
            throw new Error('killed');
          }
          await real(event, tx, delivery);
        },
      });
      await publish(nats, events.placed);
      await publish(nats, events.completed);
      await until(async () => died || undefined, 'the doomed consumer to take the event');
      // A healthy instance hears JetStream give up on it and dead-letters it.
      await consume(orderId, { name, maxDeliver: 1, ackWaitMs: 1_000 });
      const letter = await deadLetter(jsm, name, eventSubject('orders', 'OrderCompleted', orderId));
      expect(letter.header.get(DEAD_LETTER_HEADERS.reason)).toMatch(/^no answer after 1 deliveries/);
      expect(JSON.parse(new TextDecoder().decode(letter.data)).id).toBe(events.completed.id);
      expect(await rowsOf(database, orderId)).toEqual([]);
    });

    it('holds its events while the database is down, spending no delivery, and handles them when it is back', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-7');
      let down = true;
      const outage = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      const flaky: DatabaseHandle = {
        ...database,
        db: new Proxy(database.db, {
          get(target, property, receiver) {
            if (property === 'transaction' && down) return async () => Promise.reject(outage);
            return Reflect.get(target, property, receiver);
          },
        }),
        ping: async () => {
          if (down) throw outage;
          await database.ping();
        },
      };
      const { name, registry } = await consume(orderId, { database: flaky, maxDeliver: 2, ackWaitMs: 1_000 });
      await publish(nats, events.placed);
      await publish(nats, events.completed);
      await sleep(2_500); // longer than the ack wait and than the whole backoff
      const held = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
      // One in hand, kept alive by the heartbeat; the other still in the stream, not yet pulled.
      expect(held.num_redelivered).toBe(0);
      expect(held.num_ack_pending).toBe(1);
      expect(held.num_pending).toBe(1);
      expect(await counter(registry, 'saga_events_consumed_total', {})).toBe(0);
      down = false;
      await until(
        async () => ((await rowsOf(database, orderId)).length === 1 ? true : undefined),
        'the notification',
      );
      expect(await counter(registry, 'saga_events_consumed_total', { outcome: 'handled' })).toBe(2);
      expect(await counter(registry, 'saga_events_redeliveries_total', {})).toBe(0);
      expect(await counter(registry, 'saga_events_dead_letters_total', {})).toBe(0);
    });

    it('waits for a terminal event’s OrderPlaced when it arrives first', async () => {
      const orderId = unique('o');
      const events = orderEvents(orderId, 'cust-9');
      const { registry } = await consume(orderId);
      await publish(nats, events.completed);
      await until(
        async () =>
          (await counter(registry, 'saga_events_consumed_total', { outcome: 'retry' })) > 0
            ? true
            : undefined,
        'a retry',
      );
      await publish(nats, events.placed);
      await until(
        async () => ((await rowsOf(database, orderId)).length === 1 ? true : undefined),
        'the notification',
      );
      const [row] = await database.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.orderId, orderId), eq(notifications.kind, 'OrderCompleted')));
      expect(row?.eventId).toBe(events.completed.id);
    });
  });
}
