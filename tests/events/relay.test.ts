/**
 * The outbox relay against the run's real NATS server and real databases: a committed event is published once and
 * marked, one order's events are stored in commit order, a relay killed between publish and mark leaves exactly one
 * message per event id, NATS stopped under a stream of appends loses nothing and the backlog drains, the retention
 * sweep deletes only old published rows, and the metrics show backlog and age.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventService, orderEventsFilter } from '../../contracts/events.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { appendEvent, OUTBOX_TABLES } from '../../events/outbox.js';
import {
  type OutboxRelay,
  type OutboxRelayOptions,
  readBacklog,
  startOutboxRelay,
} from '../../events/relay.js';
import { ensureStreams } from '../../events/streams.js';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { uniqueId } from '../activities/helpers.js';
import { eventually } from '../api/http.js';
import { countStored, readStored } from './order-stream.js';

const STREAMS = loadConfig({}).events.streams;
const quiet = createLogger('test', 'silent');

/** A log that tests can read: every line the relay wrote, parsed. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string; component?: string }> = [];
  const logger = createLogger('test', 'debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]),
  });
  return { logger, lines };
}

/** Appends `count` payment events of `orderId` to the payments outbox, one transaction each; returns their ids. */
async function appendCharges(handle: TestDatabase, orderId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const envelope = await handle.db.transaction((tx) =>
      appendEvent(tx, 'payments', 'PaymentCharged', orderId, {
        orderId,
        chargeId: `ch-${orderId}-${i}`,
        amountCents: 100 + i,
      }),
    );
    ids.push(envelope.id);
  }
  return ids;
}

/** One order's outbox rows of `service`, in commit order. */
function rowsOf(handle: TestDatabase, service: EventService, orderId: string) {
  const outbox = OUTBOX_TABLES[service];
  return handle.db.select().from(outbox).where(eq(outbox.orderId, orderId)).orderBy(asc(outbox.seq));
}

/** The value of one sample in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const natsClients: NatsClient[] = [];
const clientOf = (url: string) => {
  const client = createNatsClient({
    servers: [url],
    name: 'relay-test',
    logger: quiet,
    retryDelayMs: 50,
    maxRetryDelayMs: 250,
  });
  natsClients.push(client);
  return client;
};

let shared: NatsClient;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  shared = clientOf(inject('natsUrl'));
  jsm = await shared.manager();
  js = await shared.jetstream();
  await ensureStreams(jsm, STREAMS);
});

afterAll(async () => {
  for (const client of natsClients) await client.close();
});

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`outbox relay (${driver})`, () => {
    let handle: TestDatabase;
    const relays: OutboxRelay[] = [];
    const relay = (options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'service'>) => {
      const started = startOutboxRelay({
        database: handle,
        nats: shared,
        logger: quiet,
        retentionHours: 24,
        ...options,
      });
      relays.push(started);
      return started;
    };

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
    });
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    it('publishes a committed event once, woken by its NOTIFY, and marks it published', async () => {
      // A poll slower than the test: only the NOTIFY can bring the event out in time.
      relay({ service: 'payments', pollMs: 600_000 });
      await new Promise((resolve) => setTimeout(resolve, 300)); // listening
      const orderId = uniqueId('relay-one');
      const [id] = await appendCharges(handle, orderId, 1);
      const filter = orderEventsFilter(orderId);
      expect(
        await eventually(
          () => countStored(jsm, filter),
          (n) => n > 0,
          10_000,
        ),
      ).toBe(1);
      const [row] = await eventually(
        () => rowsOf(handle, 'payments', orderId),
        ([r]) => r?.publishedAt != null,
        5_000,
      );
      expect(row?.publishedAt).not.toBeNull();
      const [stored] = await readStored(js, jsm, filter);
      expect(stored).toMatchObject({
        subject: `events.payments.PaymentCharged.${orderId}`,
        msgId: id,
        contentType: 'application/cloudevents+json',
      });
      expect(stored?.envelope).toEqual(row?.envelope);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await countStored(jsm, filter)).toBe(1);
    });

    it("stores one order's events in commit order, across batches and interleaved orders", async () => {
      const [a, b] = [uniqueId('relay-order-a'), uniqueId('relay-order-b')];
      const expected: Record<string, string[]> = { [a]: [], [b]: [] };
      for (let i = 0; i < 12; i++) {
        for (const orderId of [a, b]) expected[orderId]?.push(...(await appendCharges(handle, orderId, 1)));
      }
      // Two of each order's events in most batches: the second waits for the first one's ack.
      relay({ service: 'payments', batchSize: 5 });
      for (const orderId of [a, b]) {
        const filter = orderEventsFilter(orderId);
        await eventually(
          () => countStored(jsm, filter),
          (n) => n >= 12,
          15_000,
        );
        const stored = await readStored(js, jsm, filter);
        expect(stored.map((s) => s.envelope.id)).toEqual(expected[orderId]);
        expect(stored.map((s) => s.msgId)).toEqual(expected[orderId]);
      }
    });

    it('a relay killed between publish and mark leaves exactly one message per event id', async () => {
      const orderId = uniqueId('relay-killed');
      const ids = await appendCharges(handle, orderId, 3);
      const filter = orderEventsFilter(orderId);
      let attempts = 0;
      const doomed = relay({
        service: 'payments',
        beforeMark: () => {
          attempts += 1;
          throw new Error('killed between publish and mark');
        },
      });
      await eventually(
        async () => attempts,
        (n) => n > 0,
        10_000,
      );
      await doomed.stop();
      expect(await countStored(jsm, filter)).toBe(3);
      expect((await rowsOf(handle, 'payments', orderId)).every((r) => r.publishedAt === null)).toBe(true);

      const registry = new Registry();
      relay({ service: 'payments', registry });
      const rows = await eventually(
        () => rowsOf(handle, 'payments', orderId),
        (all) => all.every((r) => r.publishedAt !== null),
        10_000,
      );
      expect(rows.every((r) => r.publishedAt !== null)).toBe(true);
      const stored = await readStored(js, jsm, filter);
      expect(stored.map((s) => s.msgId)).toEqual(ids);
      const text = await registry.metrics();
      expect(sample(text, 'saga_events_publish_duplicates_total', 'service="payments"')).toBe(3);
    });

    it.skipIf(driver !== 'postgres')(
      'two relays of one service on one Postgres: one publishes, the other stands by',
      async () => {
        const orderId = uniqueId('relay-replicas');
        const ids = await appendCharges(handle, orderId, 40);
        const registries = [new Registry(), new Registry()];
        for (const registry of registries) relay({ service: 'payments', registry, batchSize: 5 });
        await eventually(
          () => rowsOf(handle, 'payments', orderId),
          (rows) => rows.every((r) => r.publishedAt !== null),
          15_000,
        );
        const stored = await readStored(js, jsm, orderEventsFilter(orderId));
        expect(stored.map((s) => s.msgId)).toEqual(ids);
        const counts = await Promise.all(
          registries.map(async (registry) => {
            const text = await registry.metrics();
            return {
              published:
                sample(text, 'saga_events_published_total', 'service="payments",type="PaymentCharged"') ?? 0,
              duplicates: sample(text, 'saga_events_publish_duplicates_total', 'service="payments"') ?? 0,
            };
          }),
        );
        expect(counts.reduce((sum, c) => sum + c.published, 0)).toBe(40);
        expect(counts.map((c) => c.duplicates)).toEqual([0, 0]);
      },
    );

    it('cleans up published rows past the retention, keeps recent and unpublished ones, with NATS down', async () => {
      const outbox = OUTBOX_TABLES.shipping;
      const orderId = uniqueId('relay-sweep');
      const appended: string[] = [];
      for (const trackingId of ['old', 'recent', 'waiting']) {
        const envelope = await handle.db.transaction((tx) =>
          appendEvent(tx, 'shipping', 'ShipmentCreated', orderId, { orderId, trackingId }),
        );
        appended.push(envelope.id);
      }
      const [oldId, recentId, waitingId] = appended as [string, string, string];
      const setRow = (
        eventId: string,
        published: ReturnType<typeof sql> | null,
        created: ReturnType<typeof sql>,
      ) =>
        handle.db
          .update(outbox)
          .set({ publishedAt: published, createdAt: created })
          .where(eq(outbox.eventId, eventId));
      await setRow(oldId, sql`now() - interval '25 hours'`, sql`now() - interval '26 hours'`);
      await setRow(recentId, sql`now() - interval '23 hours'`, sql`now() - interval '23 hours'`);
      await setRow(waitingId, null, sql`now() - interval '48 hours'`);

      // Nothing answers here: the sweep must not depend on NATS.
      const down = clientOf(`nats://127.0.0.1:${await freePort()}`);
      relay({ service: 'shipping', nats: down, retentionHours: 24, cleanupEveryMs: 100 });
      const left = await eventually(
        async () => (await rowsOf(handle, 'shipping', orderId)).map((r) => r.eventId),
        (ids) => !ids.includes(oldId),
        10_000,
      );
      expect(left).toEqual([recentId, waitingId]);
      // Leave no waiting row to the other tests' backlog figures.
      await handle.db.delete(outbox).where(and(eq(outbox.orderId, orderId), isNull(outbox.publishedAt)));
    });

    it('reports the backlog and the age of its oldest row, then drains it', async () => {
      const outbox = OUTBOX_TABLES.inventory;
      const registry = new Registry();
      const orderId = uniqueId('relay-metrics');
      for (const sku of ['MUG-RED', 'MUG-BLUE']) {
        await handle.db.transaction((tx) =>
          appendEvent(tx, 'inventory', 'StockReserved', orderId, { orderId, items: [{ sku, quantity: 1 }] }),
        );
      }
      await handle.db
        .update(outbox)
        .set({ createdAt: sql`now() - interval '90 seconds'` })
        .where(eq(outbox.orderId, orderId));
      const down = clientOf(`nats://127.0.0.1:${await freePort()}`);
      const waiting = relay({ service: 'inventory', nats: down, registry });
      const labels = 'service="inventory"';
      const text = await registry.metrics();
      expect(sample(text, 'saga_outbox_backlog', labels)).toBe(2);
      expect(sample(text, 'saga_outbox_oldest_unpublished_age_seconds', labels)).toBeGreaterThanOrEqual(90);
      expect(sample(text, 'saga_outbox_oldest_unpublished_age_seconds', labels)).toBeLessThan(120);
      const errors = await eventually(
        async () => sample(await registry.metrics(), 'saga_events_publish_errors_total', labels) ?? 0,
        (n) => n > 0,
        5_000,
      );
      expect(errors).toBeGreaterThan(0);

      await waiting.stop();
      relay({ service: 'inventory', registry });
      const drained = await eventually(
        () => registry.metrics(),
        (t) => sample(t, 'saga_outbox_backlog', labels) === 0,
        10_000,
      );
      expect(sample(drained, 'saga_outbox_backlog', labels)).toBe(0);
      expect(sample(drained, 'saga_outbox_oldest_unpublished_age_seconds', labels)).toBe(0);
      expect(sample(drained, 'saga_events_published_total', `${labels},type="StockReserved"`)).toBe(2);
      expect(await countStored(jsm, orderEventsFilter(orderId))).toBe(2);
    });

    it('loses nothing while NATS is stopped under a stream of appends, and drains the backlog after', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-outage-'));
      const port = await freePort();
      const startServer = () =>
        startNatsServer({ binary: inject('natsServerBinary'), port, storeDir: path.join(dir, 'store') });
      let server: NatsServer | undefined = await startServer();
      try {
        const own = clientOf(server.url);
        await ensureStreams(await own.manager(), STREAMS);
        const { logger, lines } = recordingLogger();
        relay({ service: 'payments', nats: own, logger, pollMs: 200 });

        const orders = [uniqueId('relay-outage-a'), uniqueId('relay-outage-b'), uniqueId('relay-outage-c')];
        const appended = new Map<string, string[]>(orders.map((o) => [o, []]));
        let appending = true;
        const appender = (async () => {
          for (let i = 0; appending; i++) {
            const orderId = orders[i % orders.length] as string;
            appended.get(orderId)?.push(...(await appendCharges(handle, orderId, 1)));
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await server.stop();
        server = undefined;
        await new Promise((resolve) => setTimeout(resolve, 4_000));
        const duringOutage = await readBacklog(handle.db, OUTBOX_TABLES.payments);
        expect(duringOutage.rows).toBeGreaterThan(0);
        server = await startServer();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        appending = false;
        await appender;

        const backlog = await eventually(
          () => readBacklog(handle.db, OUTBOX_TABLES.payments),
          (b) => b.rows === 0,
          30_000,
        );
        expect(backlog.rows).toBe(0);
        const ownJs = await own.jetstream();
        const ownJsm = await own.manager();
        for (const orderId of orders) {
          const stored = await readStored(ownJs, ownJsm, orderEventsFilter(orderId));
          expect(stored.map((s) => s.msgId)).toEqual(appended.get(orderId));
        }
        const relayLines = lines.filter((l) => l.component === 'outbox-relay');
        const warned = relayLines.filter(
          (l) => l.msg === 'outbox relay cannot publish; retrying with backoff',
        );
        expect(warned).toHaveLength(1);
        expect(relayLines.some((l) => l.msg === 'outbox relay publishing again')).toBe(true);
      } finally {
        await Promise.all(relays.splice(0).map((r) => r.stop()));
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 90_000);
  });
}
