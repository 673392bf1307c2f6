/**
 * The event consumer across a NATS restart, on a server of its own: it notices the outage, resumes pulling once
 * the server is back on the same store, and neither loses nor repeats an event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createNotificationsHandler, notificationSubjects } from '../../consumers/notifications/handler.js';
import { createSimulatedProvider } from '../../consumers/notifications/provider.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { notifications, notificationsInbox } from '../../db/schema/notifications.js';
import { type EventConsumer, startEventConsumer } from '../../events/consumer.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { counter, orderEvents, publish, unique, until } from './consumer-fixtures.js';

const logger = createLogger('test', 'silent');
const STREAMS = loadConfig({}).events.streams;
const clients: NatsClient[] = [];

const natsClient = (url: string, name: string): NatsClient => {
  const client = createNatsClient({ servers: [url], name, logger, retryDelayMs: 50, maxRetryDelayMs: 250 });
  clients.push(client);
  return client;
};

describe('event consumer across a NATS restart', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'consumer-restart-'));
  let server: NatsServer | undefined;
  let database: TestDatabase | undefined;
  let consumer: EventConsumer | undefined;

  afterAll(async () => {
    await consumer?.stop();
    for (const client of clients) await client.close();
    await server?.stop();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  }, DATABASE_HOOK_TIMEOUT_MS);

  it('resumes consuming once the server is back, without losing or repeating an event', async () => {
    const port = await freePort();
    const start = () =>
      startNatsServer({ binary: inject('natsServerBinary'), port, storeDir: path.join(dir, 'store') });
    server = await start();
    database = await createTestDatabase('pglite');
    const url = `nats://127.0.0.1:${port}`;
    const nats = natsClient(url, 'restart-consumer');
    const publisher = natsClient(url, 'restart-publisher');
    const registry = new Registry();
    consumer = startEventConsumer({
      name: 'notifications_restart',
      filterSubjects: notificationSubjects(),
      inbox: notificationsInbox,
      database,
      nats,
      logger,
      registry,
      handle: createNotificationsHandler({ provider: createSimulatedProvider() }),
      streams: STREAMS, // this server starts empty: the consumer creates the streams it reads
      backoffMs: [100],
    });
    await consumer.ready;
    const before = orderEvents(unique('o'), 'cust-1');
    await publish(publisher, before.placed);
    await publish(publisher, before.completed);
    const db = database;
    const rowsOf = (orderId: string) =>
      db.db.select().from(notifications).where(eq(notifications.orderId, orderId));
    await until(
      async () => ((await rowsOf(before.placed.subject)).length === 1 ? true : undefined),
      'the first notification',
    );

    await server.stop();
    await until(async () => (consumer?.consuming ? undefined : true), 'the consumer to notice');
    server = await start();
    await until(async () => (consumer?.consuming && publisher.connected) || undefined, 'both to reconnect');
    const after = orderEvents(unique('o'), 'cust-2');
    await publish(publisher, after.placed);
    await publish(publisher, after.failed);
    await until(
      async () => ((await rowsOf(after.placed.subject)).length === 1 ? true : undefined),
      'the second notification',
      30_000,
    );
    expect(consumer.consuming).toBe(true);
    expect(await rowsOf(before.placed.subject)).toHaveLength(1);
    expect(await counter(registry, 'saga_events_consumed_total', { outcome: 'handled' })).toBe(4);
    expect(await counter(registry, 'saga_events_consumed_total', { outcome: 'duplicate' })).toBe(0);
  }, 90_000);
});
