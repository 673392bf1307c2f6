/**
 * The runtime of an event consumer: a durable JetStream pull consumer on ORDER_EVENTS with explicit acks, whose
 * handler's effect commits in one transaction with the event's inbox row, so a redelivered event has no second
 * effect. A handler that fails is retried with backoff, then dead-lettered with the reason; an event that cannot be
 * read is dead-lettered at once. It rides out outages: while NATS is away it waits and resumes (a new pull
 * iterator when the old one ended), while the database is away it holds the message instead of spending its
 * deliveries. docs/EVENTS.md has the whole story.
 */
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { type EventEnvelope, ORDER_EVENTS_STREAM } from '../contracts/events.js';
import type { EventStreamSettings } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle, Transaction } from '../db/client.js';
import type { notificationsInbox } from '../db/schema/notifications.js';
import { type ConsumerStart, consumerConfig, ensureConsumer } from './consumer-config.js';
import { type ConsumedOutcome, consumerMetricsIn } from './consumer-metrics.js';
import { parseEventEnvelope } from './envelope.js';
import type { NatsClient } from './nats.js';
import { DEAD_LETTER_HEADERS, deadLetterSubject, ensureStreams } from './streams.js';
import { tracedProcess } from './tracing.js';

export type { ConsumerStart } from './consumer-config.js';

/** The shape of a service's inbox table: `(consumer, event_id)` primary key. */
export type InboxTable = typeof notificationsInbox;

/** Which delivery of its event a handler is running for. */
export interface Delivery {
  /** 1 for the first delivery; the consumer gives up after `maxDeliver`. */
  deliveryCount: number;
  streamSequence: number;
  subject: string;
}

/** What an event does, inside the transaction that records it in the inbox; throwing rolls both back. */
export type EventHandler = (event: EventEnvelope, tx: Transaction, delivery: Delivery) => Promise<void>;

/** Thrown by a handler for an event that no retry can handle: it is dead-lettered at once. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}

/** What `startEventConsumer` needs. */
export interface EventConsumerOptions {
  /** Durable name: the consumer on ORDER_EVENTS, the inbox's `consumer` column, a dead-letter subject token. */
  name: string;
  /** Subjects of the events it wants (`events.<service>.<Event>.<orderId>`, wildcards allowed). */
  filterSubjects: string[];
  /** The inbox table of the consuming service's schema. */
  inbox: InboxTable;
  database: DatabaseHandle;
  nats: NatsClient;
  logger: Logger;
  /** Where its metrics go; none when omitted. */
  registry?: Registry;
  handle: EventHandler;
  /** Deliveries of one event before it is dead-lettered (JetStream `max_deliver`). */
  maxDeliver?: number;
  /** Pause before the n-th retry of a failed event, the last entry repeating (`nak` with that delay). */
  backoffMs?: readonly number[];
  /** How long a delivery may stay unacknowledged before JetStream gives it to another consumer instance. */
  ackWaitMs?: number;
  /** Where a durable created now starts (default: every event the stream still holds). */
  start?: ConsumerStart;
  /** When given, the streams are created or updated before the durable each time consuming (re)starts. */
  streams?: EventStreamSettings;
  description?: string;
}

/** A running consumer. */
export interface EventConsumer {
  readonly name: string;
  /** Resolves once the durable exists and the first pull is out; rejects if stopped before. */
  readonly ready: Promise<void>;
  /** True while pulling on a live connection (readiness). */
  readonly consuming: boolean;
  /** Stops pulling and finishes the event in hand; idempotent. */
  stop(): Promise<void>;
}

/** Defaults of the design: six deliveries, 1 s to 60 s apart, 30 s to answer each. */
export const CONSUMER_DEFAULTS = {
  maxDeliver: 6,
  backoffMs: [1_000, 5_000, 15_000, 30_000, 60_000],
  ackWaitMs: 30_000,
} as const;

/** A database that does not answer within this long counts as down. */
const PING_TIMEOUT_MS = 3_000;
/** Longest pause between attempts to reach NATS or the database again. */
const MAX_RETRY_PAUSE_MS = 10_000;
/** Header values are one line; a reason longer than this is cut. */
const MAX_REASON_LENGTH = 1_000;

/** The event name of a CloudEvents type (`order-saga.orders.OrderPlaced.v1` → `OrderPlaced`). */
const eventName = (event: EventEnvelope): string => event.type.split('.')[2] ?? event.type;

/** A reason fit for a header: one line, bounded. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, '; ').slice(0, MAX_REASON_LENGTH);
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) return z.prettifyError(err);
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What one delivery came to. */
interface Settled {
  outcome: ConsumedOutcome;
  type: string;
}

/** Stop was asked for while waiting on something that may never come (NATS down). */
class Stopped extends Error {}

/**
 * Starts consuming in the background and returns at once (await `ready` to know the durable exists). While NATS
 * or the stream is unavailable it retries with backoff; `stop()` ends it.
 */
export function startEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { name, inbox, database, nats, handle } = options;
  const maxDeliver = options.maxDeliver ?? CONSUMER_DEFAULTS.maxDeliver;
  const backoffMs = options.backoffMs ?? CONSUMER_DEFAULTS.backoffMs;
  const ackWaitMs = options.ackWaitMs ?? CONSUMER_DEFAULTS.ackWaitMs;
  if (backoffMs.length === 0) throw new Error('backoffMs needs at least one delay');
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error('maxDeliver must be at least 1');
  deadLetterSubject(name, 'events.x'); // the name must be a subject token: fail now, not at the first poison
  const desired = consumerConfig({ ...options, maxDeliver, backoffMs, ackWaitMs });
  const log = options.logger.child({ component: 'consumer', consumer: name });
  const metrics = consumerMetricsIn(options.registry ?? new Registry());

  let stopping = false;
  let consuming = false;
  let current: ConsumerMessages | undefined;
  let signalStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    signalStop = resolve;
  });
  /** Resolves with `promise`, or rejects with Stopped once stop() is called. */
  const unlessStopped = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([
      promise,
      stopped.then(() => {
        throw new Stopped();
      }),
    ]);
  /** Waits `ms`, or less when stopping; true when the wait ran to its end. */
  const pause = (ms: number) =>
    unlessStopped(new Promise<void>((resolve) => setTimeout(resolve, ms).unref())).then(
      () => !stopping,
      () => false,
    );
  let markReady: () => void = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => {}); // only a caller that awaits it learns of a stop before ready

  /** Acks, naks and terms are fire-and-forget; on a closed connection the redelivery covers what was lost. */
  const settle = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.warn({ err, what }, 'could not answer JetStream; the event will come again');
    }
  };

  const databaseAnswers = async () => {
    try {
      await withTimeout(database.ping(), PING_TIMEOUT_MS);
      return true;
    } catch {
      return false;
    }
  };

  /** Publishes a dead letter, retrying while NATS is away; false when stopped before it went out. */
  const publishDeadLetter = async (letter: {
    subject: string;
    seq: number;
    data: Uint8Array;
    deliveries: number;
    reason: string;
  }): Promise<boolean> => {
    const h = headers();
    h.set(DEAD_LETTER_HEADERS.reason, oneLine(letter.reason));
    h.set(DEAD_LETTER_HEADERS.originalSubject, letter.subject);
    h.set(DEAD_LETTER_HEADERS.originalSeq, String(letter.seq));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(letter.deliveries));
    // One dead letter per consumer and stream sequence, however many instances or attempts publish it.
    const msgID = `${name}:${letter.seq}`;
    for (let attempt = 0; !stopping || attempt === 0; attempt += 1) {
      try {
        const js = await unlessStopped(nats.jetstream());
        await js.publish(deadLetterSubject(name, letter.subject), letter.data, { headers: h, msgID });
        return true;
      } catch (err) {
        if (err instanceof Stopped) return false;
        log.warn({ err, seq: letter.seq, attempt }, 'dead letter not published yet; retrying');
        if (!(await pause(Math.min(250 * 2 ** attempt, MAX_RETRY_PAUSE_MS)))) return false;
      }
    }
    return false;
  };

  /** Dead-letters one delivery and terminates it; if stopped first, gives it back instead. */
  const giveUp = async (msg: JsMsg, type: string, reason: string, eventId?: string): Promise<Settled> => {
    const deliveries = msg.info.deliveryCount;
    const published = await publishDeadLetter({
      subject: msg.subject,
      seq: msg.seq,
      data: msg.data,
      deliveries,
      reason,
    });
    if (!published) {
      settle('nak', () => msg.nak());
      return { outcome: 'retry', type };
    }
    settle('term', () => msg.term(oneLine(reason)));
    metrics.deadLetters.inc({ consumer: name });
    log.error(
      { eventId, type, subject: msg.subject, seq: msg.seq, deliveries, reason },
      'event dead-lettered',
    );
    return { outcome: 'dead_letter', type };
  };

  /** The inbox row and the handler's effect, in one transaction. */
  const record = (event: EventEnvelope, delivery: Delivery) =>
    database.db.transaction(async (tx): Promise<'handled' | 'duplicate'> => {
      const inserted = await tx
        .insert(inbox)
        .values({ consumer: name, eventId: event.id })
        .onConflictDoNothing()
        .returning({ eventId: inbox.eventId });
      if (inserted.length === 0) return 'duplicate';
      await handle(event, tx, delivery);
      return 'handled';
    });

  const deliver = async (msg: JsMsg): Promise<Settled> => {
    const delivery: Delivery = {
      deliveryCount: msg.info.deliveryCount,
      streamSequence: msg.seq,
      subject: msg.subject,
    };
    if (delivery.deliveryCount > 1) metrics.redeliveries.inc({ consumer: name });
    let event: EventEnvelope;
    try {
      event = parseEventEnvelope(JSON.parse(utf8.decode(msg.data)));
    } catch (err) {
      return giveUp(msg, 'invalid', `not a valid event: ${describe(err)}`);
    }
    const type = eventName(event);
    const fields = { eventId: event.id, orderId: event.subject, type, deliveryCount: delivery.deliveryCount };
    let databaseDown = false;
    for (;;) {
      try {
        const outcome = await tracedProcess(
          {
            subject: msg.subject,
            headers: msg.headers,
            eventId: event.id,
            orderId: event.subject,
            consumer: name,
          },
          () => record(event, delivery),
        );
        settle('ack', () => msg.ack());
        if (databaseDown) log.info(fields, 'database answers again; event handled');
        log.debug({ ...fields, outcome }, 'event consumed');
        return { outcome, type };
      } catch (err) {
        if (err instanceof PermanentEventError) return giveUp(msg, type, describe(err), event.id);
        if (!(await databaseAnswers())) {
          // Not the event's fault: hold it (the heartbeat keeps it ours) without spending a delivery.
          if (!databaseDown) log.warn({ ...fields, err }, 'database unavailable; holding the event');
          databaseDown = true;
          let back = false;
          for (let attempt = 0; !back; attempt += 1) {
            if (!(await pause(Math.min(250 * 2 ** attempt, MAX_RETRY_PAUSE_MS)))) {
              settle('nak', () => msg.nak());
              return { outcome: 'retry', type };
            }
            back = await databaseAnswers();
          }
          continue;
        }
        if (delivery.deliveryCount >= maxDeliver) {
          return giveUp(
            msg,
            type,
            `handler failed on delivery ${delivery.deliveryCount} of ${maxDeliver}: ${describe(err)}`,
            event.id,
          );
        }
        const delay = backoffMs[Math.min(delivery.deliveryCount, backoffMs.length) - 1] as number;
        settle('nak', () => msg.nak(delay));
        log.warn({ ...fields, err, retryInMs: delay }, 'event handler failed; retrying later');
        return { outcome: 'retry', type };
      }
    }
  };

  /** Handles one delivery, telling JetStream it is in progress while it takes long. */
  const handleMessage = async (msg: JsMsg) => {
    const heartbeat = setInterval(() => settle('working', () => msg.working()), Math.max(ackWaitMs / 3, 100));
    try {
      const { outcome, type } = await deliver(msg);
      metrics.consumed.inc({ consumer: name, type, outcome });
    } catch (err) {
      // Only a bug gets here (deliver() settles every failure); the ack wait brings the event back.
      log.error({ err, seq: msg.seq }, 'event consumer failed unexpectedly');
    } finally {
      clearInterval(heartbeat);
    }
  };

  /**
   * A delivery whose every attempt went unanswered (the process died or hung each time) is never handed out again;
   * JetStream announces it, and this dead-letters it so it is not silently lost. Every instance hears it: the
   * dead letter's msgID keeps it to one.
   */
  const watchMaxDeliveries = (nc: NatsConnection, jsm: JetStreamManager) => {
    const sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${ORDER_EVENTS_STREAM}.${name}`, {
      callback: (err, advisory) => {
        if (err) return;
        void (async () => {
          const { stream_seq: seq, deliveries } = advisory.json<{ stream_seq: number; deliveries: number }>();
          const stored = await jsm.streams.getMessage(ORDER_EVENTS_STREAM, { seq });
          if (!stored) return;
          const reason = `no answer after ${deliveries} deliveries: the consumer stopped or timed out each time`;
          if (
            await publishDeadLetter({ subject: stored.subject, seq, data: stored.data, deliveries, reason })
          ) {
            metrics.deadLetters.inc({ consumer: name });
            const type = stored.subject.split('.')[2] ?? 'unknown';
            metrics.consumed.inc({ consumer: name, type, outcome: 'dead_letter' });
            log.error({ seq, subject: stored.subject, deliveries, reason }, 'event dead-lettered');
          }
        })().catch((adviseErr) => log.warn({ err: adviseErr }, 'max-deliveries advisory not handled'));
      },
    });
    return () => sub.unsubscribe();
  };

  /** A durable lost under a running consumer (NATS restarted on an empty store, an operator deleted it) comes back. */
  const watchStatus = async (messages: ConsumerMessages, jsm: JetStreamManager) => {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_not_found' || status.type === 'consumer_deleted') {
        log.warn({ status: status.type }, 'durable consumer missing; creating it again');
        try {
          if (options.streams) await ensureStreams(jsm, options.streams);
          await ensureConsumer(jsm, desired);
        } catch (err) {
          log.warn({ err }, 'durable consumer not created yet');
        }
      } else if (status.type === 'heartbeats_missed') {
        log.debug({ count: status.count }, 'JetStream heartbeats missed');
      }
    }
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      let unwatchAdvisories: (() => void) | undefined;
      try {
        const jsm = await unlessStopped(nats.manager());
        if (options.streams) await unlessStopped(ensureStreams(jsm, options.streams));
        await unlessStopped(ensureConsumer(jsm, desired));
        const js = await unlessStopped(nats.jetstream());
        const consumer = await unlessStopped(js.consumers.get(ORDER_EVENTS_STREAM, name));
        // Listening before the first pull: JetStream announces a delivery it gave up on when it is pulled for.
        unwatchAdvisories = watchMaxDeliveries(await unlessStopped(nats.connection()), jsm);
        // One delivery outstanding, the one in hand, which the heartbeat keeps alive: an event prefetched into a
        // client-side queue would wait unanswered while the database is down or a handler is slow, and each
        // expiry of its ack wait would spend one of its deliveries. The next pull goes out once it is settled.
        const messages = await unlessStopped(consumer.consume({ max_messages: 1 }));
        current = messages;
        if (stopping) await messages.close();
        void watchStatus(messages, jsm).catch(() => {});
        consuming = true;
        failures = 0;
        markReady();
        log.info({ filterSubjects: options.filterSubjects }, 'consuming events');
        for await (const msg of messages) {
          // One that arrived as the stop began goes back at once, for another instance to take.
          if (stopping) settle('nak', () => msg.nak());
          else await handleMessage(msg);
        }
        const ended = await messages.closed();
        if (ended instanceof Error) throw ended;
        if (!stopping) log.warn('event pull ended; pulling again');
      } catch (err) {
        if (stopping || err instanceof Stopped) break;
        failures += 1;
        const retryInMs = Math.min(250 * 2 ** failures, MAX_RETRY_PAUSE_MS);
        if (failures === 1) log.warn({ err, retryInMs }, 'cannot consume events; retrying');
        else log.debug({ err, retryInMs }, 'still cannot consume events');
        await pause(retryInMs);
      } finally {
        consuming = false;
        current = undefined;
        unwatchAdvisories?.();
      }
    }
  };

  const unwatchLag = metrics.watchLag(name, async () => {
    if (!nats.connected) return undefined;
    const info = await (await nats.manager()).consumers.info(ORDER_EVENTS_STREAM, name);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  });
  const running = run().catch((err) => log.error({ err }, 'event consumer stopped on an error'));

  return {
    name,
    ready,
    get consuming() {
      return consuming && nats.connected;
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        signalStop();
        failReady(new Error(`consumer ${name} stopped before it was ready`));
        void current?.close().catch(() => {});
      }
      await running;
      unwatchLag();
      log.info('event consumer stopped');
    },
  };
}
