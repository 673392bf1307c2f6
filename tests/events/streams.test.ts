/**
 * The event streams on a real NATS server: `ensureStreams` creates ORDER_EVENTS and its dead-letter stream with
 * the configured limits, changes nothing when run again and updates a changed limit; a message published twice
 * with one `Nats-Msg-Id` is stored once; a server restarted on the same store keeps the messages and the dedupe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEAD_LETTER_STREAM, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { type EventStreamSettings, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { deadLetterSubject, ensureStreams } from '../../events/streams.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';

const logger = createLogger('test', 'silent');
const HOUR_NS = nanos(3_600_000);
const DEFAULTS = loadConfig({}).events.streams;

const dir = mkdtempSync(path.join(os.tmpdir(), 'event-streams-'));
const storeDir = path.join(dir, 'store');
// A server of this file's own for what changes limits or restarts; the run's shared one for the defaults.
let server: NatsServer | undefined;
const clients: NatsClient[] = [];

const clientOf = (url: string): NatsClient => {
  const client = createNatsClient({ servers: [url], name: 'streams-test', logger });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  server = await startNatsServer({ binary: inject('natsServerBinary'), storeDir });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const configOf = async (jsm: JetStreamManager, name: string): Promise<StreamConfig> =>
  (await jsm.streams.info(name)).config;

describe('ensureStreams', () => {
  it('creates both streams with the default limits on the shared server, and a second run changes nothing', async () => {
    const jsm = await clientOf(inject('natsUrl')).manager();
    await ensureStreams(jsm, DEFAULTS);
    const events = await configOf(jsm, ORDER_EVENTS_STREAM);
    expect(events).toMatchObject({
      subjects: ['events.>'],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      max_age: 168 * HOUR_NS,
      max_bytes: 1024 ** 3,
      duplicate_window: nanos(120_000),
      num_replicas: 1,
    });
    expect(await configOf(jsm, DEAD_LETTER_STREAM)).toMatchObject({
      subjects: ['dlq.>'],
      storage: 'file',
      max_age: 30 * 24 * HOUR_NS,
    });
    const again = await ensureStreams(jsm, DEFAULTS);
    expect(again.map(({ name, action }) => [name, action])).toEqual([
      [ORDER_EVENTS_STREAM, 'unchanged'],
      [DEAD_LETTER_STREAM, 'unchanged'],
    ]);
  });

  it('creates, then keeps, then updates the limits that changed', async () => {
    const jsm = await clientOf(server?.url ?? '').manager();
    const first = await ensureStreams(jsm, DEFAULTS);
    expect(first.map(({ action }) => action)).toEqual(['created', 'created']);
    expect((await ensureStreams(jsm, DEFAULTS)).map(({ action }) => action)).toEqual([
      'unchanged',
      'unchanged',
    ]);

    const changed: EventStreamSettings = { ...DEFAULTS, maxAgeHours: 24, maxBytes: 64 * 1024 * 1024 };
    const updated = await ensureStreams(jsm, changed);
    expect(updated.map(({ name, action }) => [name, action])).toEqual([
      [ORDER_EVENTS_STREAM, 'updated'],
      [DEAD_LETTER_STREAM, 'unchanged'],
    ]);
    expect(await configOf(jsm, ORDER_EVENTS_STREAM)).toMatchObject({
      max_age: 24 * HOUR_NS,
      max_bytes: 64 * 1024 * 1024,
    });
    // The duplicate window is a limit of both streams.
    const window = await ensureStreams(jsm, { ...changed, duplicateWindowSeconds: 30 });
    expect(window.map(({ action }) => action)).toEqual(['updated', 'updated']);
    expect((await configOf(jsm, DEAD_LETTER_STREAM)).duplicate_window).toBe(nanos(30_000));
    await ensureStreams(jsm, DEFAULTS);
  });
});

describe('JetStream dedupe and the file store', () => {
  it('stores a message published twice with one Nats-Msg-Id once', async () => {
    const client = clientOf(server?.url ?? '');
    await ensureStreams(await client.manager(), DEFAULTS);
    const js = await client.jetstream();
    const subject = 'events.orders.OrderPlaced.order-dedupe';
    const before = (await (await client.manager()).streams.info(ORDER_EVENTS_STREAM)).state.messages;

    const first = await js.publish(subject, '{"n":1}', { msgID: 'event-dedupe-1' });
    const second = await js.publish(subject, '{"n":1}', { msgID: 'event-dedupe-1' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const other = await js.publish(subject, '{"n":2}', { msgID: 'event-dedupe-2' });
    expect(other.duplicate).toBe(false);

    const after = (await (await client.manager()).streams.info(ORDER_EVENTS_STREAM)).state.messages;
    expect(after - before).toBe(2);
  });

  it('keeps the stream, its messages and its dedupe across a restart on the same store', async () => {
    const before = clientOf(server?.url ?? '');
    await ensureStreams(await before.manager(), DEFAULTS);
    const js = await before.jetstream();
    for (const n of [1, 2, 3]) {
      await js.publish(`events.payments.PaymentCharged.order-restart-${n}`, `{"n":${n}}`, {
        msgID: `event-restart-${n}`,
      });
    }
    const kept = (await (await before.manager()).streams.info(ORDER_EVENTS_STREAM)).state;
    await before.close();

    await server?.stop();
    server = await startNatsServer({ binary: inject('natsServerBinary'), storeDir });
    const after = clientOf(server.url);
    const jsm = await after.manager();
    const state = (await jsm.streams.info(ORDER_EVENTS_STREAM)).state;
    expect(state.messages).toBe(kept.messages);
    expect(state.last_seq).toBe(kept.last_seq);
    const message = await jsm.streams.getMessage(ORDER_EVENTS_STREAM, {
      last_by_subj: 'events.payments.PaymentCharged.order-restart-2',
    });
    expect(message?.string()).toBe('{"n":2}');
    // A relay that re-publishes after the restart (it died before marking the row) still adds nothing.
    const again = await (await after.jetstream()).publish(
      'events.payments.PaymentCharged.order-restart-3',
      '{}',
      {
        msgID: 'event-restart-3',
      },
    );
    expect(again.duplicate).toBe(true);
    expect((await ensureStreams(jsm, DEFAULTS)).map(({ action }) => action)).toEqual([
      'unchanged',
      'unchanged',
    ]);
  });
});

describe('dead-letter subjects', () => {
  it('puts the consumer before the original subject, without its "events." prefix', () => {
    expect(deadLetterSubject('notifications', 'events.orders.OrderCompleted.o-1')).toBe(
      'dlq.notifications.orders.OrderCompleted.o-1',
    );
    expect(() => deadLetterSubject('bad.name', 'events.orders.OrderCompleted.o-1')).toThrow(/subject token/);
  });
});
