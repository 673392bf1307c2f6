/**
 * The event operator tools (tools/events/) against the run's real NATS server: `events:replay` starts a fresh
 * durable exactly at a sequence or a time, re-creates an existing one at a new position, and refuses to reset one
 * with unacknowledged deliveries; `events:dlq` lists a dead letter the consumer runtime wrote with its reason,
 * re-drives it into ORDER_EVENTS past the stream's dedupe (the fixed consumer then handles it, a second re-drive has
 * no second effect) and purges. Each test has its own order ids and durable names, so they share the streams.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotificationsHandler, notificationSubjects } from '../../consumers/notifications/handler.js';
import { createSimulatedProvider } from '../../consumers/notifications/provider.js';
import {
  DEAD_LETTER_STREAM,
  type EventEnvelope,
  type EventName,
  type EventService,
  eventSubject,
  ORDER_EVENTS_STREAM,
} from '../../contracts/events.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { notifications, notificationsInbox } from '../../db/schema/notifications.js';
import { type EventConsumer, PermanentEventError, startEventConsumer } from '../../events/consumer.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { DEAD_LETTER_HEADERS, deadLetterSubject, ensureStreams } from '../../events/streams.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import type { JetStreamAccess } from '../../tools/events/connect.js';
import {
  getDeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  REDRIVEN_FROM_HEADER,
  redriveDeadLetters,
} from '../../tools/events/dead-letters.js';
import { parseDlqArgs, runDlqCommand } from '../../tools/events/dlq-command.js';
import {
  parseReplayArgs,
  type ReplayRequest,
  replayConsumer,
  replayReport,
} from '../../tools/events/replay.js';
import { orderEvents, sleep, unique, until } from './consumer-fixtures.js';

const logger = createLogger('test', 'silent');
const STREAMS = loadConfig({}).events.streams;

let nats: NatsClient;
let jsm: JetStreamManager;
let access: JetStreamAccess;
const durables: string[] = [];

beforeAll(async () => {
  nats = createNatsClient({ servers: [inject('natsUrl')], name: 'operator-tools-test', logger });
  jsm = await nats.manager();
  access = { jsm, js: await nats.jetstream() };
  await ensureStreams(jsm, STREAMS);
});

afterAll(async () => {
  for (const name of durables) await jsm.consumers.delete(ORDER_EVENTS_STREAM, name).catch(() => false);
  await nats?.close();
});

/** Publishes an event as the relay does and returns its stream sequence. */
async function publishEvent(event: EventEnvelope): Promise<number> {
  const [, service, name] = event.type.split('.') as [string, EventService, EventName];
  const ack = await access.js.publish(
    eventSubject(service, name as never, event.subject),
    JSON.stringify(event),
    {
      msgID: event.id,
    },
  );
  return ack.seq;
}

/** Every event the durable delivers now (acknowledged), as event ids in delivery order. */
async function drain(name: string): Promise<string[]> {
  const consumer = await access.js.consumers.get(ORDER_EVENTS_STREAM, name);
  const ids: string[] = [];
  for await (const msg of await consumer.fetch({ max_messages: 50, expires: 1_000 })) {
    ids.push((msg.json() as EventEnvelope).id);
    msg.ack();
  }
  return ids;
}

function replayOf(consumer: string, start: ReplayRequest['start'], filterSubjects: string[] = []) {
  if (!durables.includes(consumer)) durables.push(consumer);
  return { consumer, start, filterSubjects, dryRun: false, force: false } satisfies ReplayRequest;
}

describe('events:replay', () => {
  it('parses the command line and insists on exactly one start', () => {
    expect(parseReplayArgs(['--consumer', 'notifications', '--from-seq', '12', '--dry-run'])).toEqual({
      consumer: 'notifications',
      start: { sequence: 12 },
      filterSubjects: [],
      dryRun: true,
      force: false,
    });
    expect(parseReplayArgs(['--consumer', 'c', '--since', '2026-12-01T10:00:00Z']).start).toEqual({
      time: new Date('2026-12-01T10:00:00Z'),
    });
    expect(() => parseReplayArgs(['--consumer', 'c'])).toThrow(/exactly one/);
    expect(() => parseReplayArgs(['--consumer', 'c', '--new', '--from-seq', '3'])).toThrow(/exactly one/);
    expect(() => parseReplayArgs(['--consumer', 'c', '--since', 'yesterday-ish'])).toThrow(/not a time/);
    expect(() => parseReplayArgs(['--consumer', 'c', '--from-seq', '0'])).toThrow(/stream sequence/);
  });

  it('starts a fresh durable at a sequence, and re-creates an existing one at another', async () => {
    const orderId = unique('o');
    const events = orderEvents(orderId, 'cust-replay');
    const placedSeq = await publishEvent(events.placed);
    const completedSeq = await publishEvent(events.completed);
    await publishEvent(events.refunded);
    const name = unique('replay');

    const created = await replayConsumer(
      jsm,
      replayOf(name, { sequence: completedSeq }, notificationSubjects(orderId)),
    );
    expect(created.plan.action).toBe('create');
    expect(created.info?.num_pending).toBe(2);
    expect(await drain(name)).toEqual([events.completed.id, events.refunded.id]);

    // Existing, nothing unacknowledged: deleted and created again, its subjects kept.
    const recreated = await replayConsumer(jsm, replayOf(name, { sequence: placedSeq }));
    expect(recreated.plan).toMatchObject({ action: 'recreate', current: { pending: 0, ackPending: 0 } });
    expect(recreated.plan.config.filter_subjects).toEqual(notificationSubjects(orderId));
    expect(recreated.info?.num_pending).toBe(3);
    expect(await drain(name)).toEqual([events.placed.id, events.completed.id, events.refunded.id]);
    const report = replayReport(recreated, false).join('\n');
    expect(report).toContain('delete it and create it again');
    expect(report).toContain('pending now: 3');
    expect(report).toContain('no second effect');
  });

  it('starts a fresh durable at the first event stored at or after a time', async () => {
    const orderId = unique('o');
    const events = orderEvents(orderId, 'cust-since');
    await publishEvent(events.placed);
    await sleep(100);
    const since = new Date();
    await sleep(100);
    await publishEvent(events.completed);
    await publishEvent(events.refunded);
    const name = unique('since');

    const outcome = await replayConsumer(jsm, replayOf(name, { time: since }, notificationSubjects(orderId)));
    // The server echoes the time in its own form (trailing zeros of the fraction dropped).
    expect(Date.parse(outcome.info?.config.opt_start_time ?? '')).toBe(since.getTime());
    expect(await drain(name)).toEqual([events.completed.id, events.refunded.id]);
  });

  it('refuses to reset a consumer with unacknowledged deliveries unless forced; a dry run changes nothing', async () => {
    const orderId = unique('o');
    const events = orderEvents(orderId, 'cust-busy');
    const placedSeq = await publishEvent(events.placed);
    await publishEvent(events.completed);
    const name = unique('busy');

    const dry = await replayConsumer(jsm, {
      ...replayOf(name, { sequence: placedSeq }, notificationSubjects(orderId)),
      dryRun: true,
    });
    expect(dry.plan.action).toBe('create');
    expect(dry.info).toBeUndefined();
    await expect(jsm.consumers.info(ORDER_EVENTS_STREAM, name)).rejects.toThrow(/consumer not found/);

    await replayConsumer(jsm, replayOf(name, { sequence: placedSeq }, notificationSubjects(orderId)));
    // An instance holds the first event: delivered, not acknowledged.
    const held = await (await access.js.consumers.get(ORDER_EVENTS_STREAM, name)).next({ expires: 2_000 });
    expect(held?.seq).toBe(placedSeq);
    const before = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
    expect(before.num_ack_pending).toBe(1);

    const refused = await replayConsumer(jsm, replayOf(name, 'new'));
    expect(refused.plan.refusal).toMatch(/1 delivered event\(s\) not acknowledged/);
    expect(refused.info).toBeUndefined();
    expect(replayReport(refused, false).join('\n')).toContain('--force');
    const forcedDry = await replayConsumer(jsm, { ...replayOf(name, 'new'), force: true, dryRun: true });
    expect(forcedDry.plan.refusal).toBeUndefined();
    const untouched = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
    expect(untouched.created).toBe(before.created);
    expect(untouched.num_ack_pending).toBe(1);

    const forced = await replayConsumer(jsm, { ...replayOf(name, 'new'), force: true });
    expect(forced.info?.created).not.toBe(before.created);
    expect(forced.info).toMatchObject({ num_ack_pending: 0, num_pending: 0 });
  });
});

describe('events:dlq', () => {
  let database: TestDatabase;
  const running: EventConsumer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  }, DATABASE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    for (const consumer of running) await consumer.stop();
    await database?.close();
  }, DATABASE_HOOK_TIMEOUT_MS);

  it('parses the commands', () => {
    expect(parseDlqArgs(['list'])).toEqual({ kind: 'list', limit: 20 });
    expect(parseDlqArgs(['list', '--consumer', 'notifications', '--limit', '5'])).toEqual({
      kind: 'list',
      consumer: 'notifications',
      limit: 5,
    });
    expect(parseDlqArgs(['show', '7'])).toEqual({ kind: 'show', seq: 7 });
    expect(parseDlqArgs(['redrive', '7', '9'])).toEqual({ kind: 'redrive', selection: { seqs: [7, 9] } });
    expect(parseDlqArgs(['purge', '--all', '--consumer', 'x'])).toEqual({
      kind: 'purge',
      selection: { all: true, consumer: 'x' },
    });
    expect(() => parseDlqArgs(['redrive'])).toThrow(/sequence or --all/);
    expect(() => parseDlqArgs(['purge', '3', '--all'])).toThrow(/not both/);
    expect(() => parseDlqArgs(['show', 'x'])).toThrow(/sequence/);
    expect(() => parseDlqArgs(['drop'])).toThrow(/unknown command/);
  });

  it('lists a dead letter with its reason, re-drives it past the dedupe window, and the fixed consumer handles it once', async () => {
    const orderId = unique('o');
    const events = orderEvents(orderId, 'cust-dlq');
    const name = unique('dlq');
    durables.push(name);
    let broken = true;
    const real = createNotificationsHandler({ provider: createSimulatedProvider() });
    const consumer = startEventConsumer({
      name,
      filterSubjects: notificationSubjects(orderId),
      inbox: notificationsInbox,
      database,
      nats,
      logger,
      backoffMs: [100],
      handle: async (event, tx, delivery) => {
        if (broken && event.id === events.completed.id) throw new PermanentEventError('template missing');
        await real(event, tx, delivery);
      },
    });
    running.push(consumer);
    await consumer.ready;
    await publishEvent(events.placed);
    const completedSeq = await publishEvent(events.completed);
    const subject = eventSubject('orders', 'OrderCompleted', orderId);

    const { letters } = await until(async () => {
      const listed = await listDeadLetters(access, { consumer: name });
      return listed.total > 0 ? listed : undefined;
    }, 'the dead letter');
    expect(letters).toHaveLength(1);
    const [letter] = letters as [(typeof letters)[number]];
    expect(letter).toMatchObject({
      consumer: name,
      originalSubject: subject,
      originalSeq: completedSeq,
      deliveries: 1,
      reason: 'template missing',
      eventId: events.completed.id,
    });
    const printed: string[] = [];
    expect(
      await runDlqCommand(access, { kind: 'list', consumer: name, limit: 20 }, (l) => printed.push(l)),
    ).toBe(0);
    expect(printed.join('\n')).toMatch(
      new RegExp(`${letter.seq}\\s.*${name}\\s+${subject}\\s+1\\s+template missing`),
    );

    // Fixed, re-driven: the original id is still inside the stream's duplicate window, the re-drive's is not.
    broken = false;
    const [redriven] = await redriveDeadLetters(access, { seqs: [letter.seq] });
    expect(redriven).toMatchObject({
      duplicate: false,
      msgID: `${events.completed.id}:redrive:${letter.seq}`,
    });
    const stored = await jsm.streams.getMessage(ORDER_EVENTS_STREAM, { last_by_subj: subject });
    if (!stored) throw new Error(`nothing stored under ${subject}`);
    expect(stored.seq).toBe(redriven?.seq);
    expect(stored.seq).toBeGreaterThan(completedSeq);
    expect(stored.header.get('Nats-Msg-Id')).toBe(redriven?.msgID);
    expect(stored.header.get(REDRIVEN_FROM_HEADER)).toBe(`${DEAD_LETTER_STREAM}:${letter.seq}`);
    expect((stored.json() as EventEnvelope).id).toBe(events.completed.id);
    await expect(getDeadLetter(jsm, letter.seq)).rejects.toThrow(/no dead letter/);
    expect((await listDeadLetters(access, { consumer: name })).total).toBe(0);

    const rowsOf = () => database.db.select().from(notifications).where(eq(notifications.orderId, orderId));
    const [row] = await until(async () => {
      const rows = await rowsOf();
      return rows.length > 0 ? rows : undefined;
    }, 'the notification of the re-driven event');
    expect(row).toMatchObject({ kind: 'OrderCompleted', eventId: events.completed.id });

    // The same dead letter again (another consumer's copy, say): its re-drive reaches the consumer, which has it in
    // its inbox already and does nothing a second time.
    const copy = headers();
    copy.set(DEAD_LETTER_HEADERS.reason, 'template missing');
    copy.set(DEAD_LETTER_HEADERS.originalSubject, subject);
    copy.set(DEAD_LETTER_HEADERS.originalSeq, String(completedSeq));
    copy.set(DEAD_LETTER_HEADERS.deliveries, '1');
    const again = await access.js.publish(
      deadLetterSubject(name, subject),
      JSON.stringify(events.completed),
      {
        headers: copy,
        msgID: `${name}:${completedSeq}:copy`,
      },
    );
    const [second] = await redriveDeadLetters(access, { all: true, consumer: name });
    expect(second?.letter.seq).toBe(again.seq);
    await until(async () => {
      const info = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
      return info.ack_floor.stream_seq >= (second?.seq ?? Number.POSITIVE_INFINITY) || undefined;
    }, 'the second re-drive to be acknowledged');
    expect(await rowsOf()).toHaveLength(1);
  });

  it('purges one dead letter, or all of a consumer, and prints what it deleted', async () => {
    const orderId = unique('o');
    const events = orderEvents(orderId, 'cust-purge');
    const [first, second] = [unique('purge'), unique('purge')];
    const poison = async (consumer: string, event: EventEnvelope, seq: number) => {
      const h = headers();
      h.set(DEAD_LETTER_HEADERS.reason, `poison ${seq}`);
      h.set(DEAD_LETTER_HEADERS.originalSubject, eventSubject('orders', 'OrderPlaced', orderId));
      h.set(DEAD_LETTER_HEADERS.originalSeq, String(seq));
      h.set(DEAD_LETTER_HEADERS.deliveries, '6');
      const subject = deadLetterSubject(consumer, eventSubject('orders', 'OrderPlaced', orderId));
      return (
        await access.js.publish(subject, JSON.stringify(event), { headers: h, msgID: `${consumer}:${seq}` })
      ).seq;
    };
    const a1 = await poison(first, events.placed, 1);
    const a2 = await poison(first, events.placed, 2);
    const b1 = await poison(second, events.placed, 3);
    const b2 = await poison(second, events.placed, 4);

    const printed: string[] = [];
    const code = await runDlqCommand(access, { kind: 'purge', selection: { seqs: [a1] } }, (l) =>
      printed.push(l),
    );
    expect(code).toBe(0);
    expect(printed[0]).toMatch(new RegExp(`^deleted\\s+${a1}\\s.*${first}.*poison 1$`));
    expect(await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq: a1 })).toBeNull();

    const deleted = await purgeDeadLetters(access, { all: true, consumer: second });
    expect(deleted.map((letter) => letter.seq)).toEqual([b1, b2]);
    expect((await listDeadLetters(access, { consumer: second })).total).toBe(0);
    const left = await listDeadLetters(access, { consumer: first });
    expect(left.letters.map((letter) => [letter.seq, letter.reason])).toEqual([[a2, 'poison 2']]);
    await purgeDeadLetters(access, { seqs: [a2] });
  });
});
