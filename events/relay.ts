/**
 * The outbox relay of one service: publishes the events its activities committed to the ORDER_EVENTS stream, in
 * commit order per order, and marks them published once the stream acknowledged them. A relay that stops between
 * publish and mark publishes the same event ids again: the stream's duplicate window drops them, and consumers
 * dedupe by id beyond it. It wakes on the outbox's NOTIFY, polls as a fallback, backs off while NATS or the
 * database fails, and deletes what it published once the retention has passed.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { asc, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Registry } from 'prom-client';
import { type EventService, ORDER_EVENTS_STREAM } from '../contracts/events.js';
import type { Logger } from '../core/logger.js';
import type { Database, DatabaseHandle } from '../db/client.js';
import type { OutboxTable } from '../db/schema/outbox.js';
import { type EventMetrics, eventMetricsIn, type OutboxBacklog } from './metrics.js';
import type { NatsClient } from './nats.js';
import { OUTBOX_TABLES, outboxChannel } from './outbox.js';
import { tracedPublish } from './tracing.js';

/** What a relay needs and how it paces itself. */
export interface OutboxRelayOptions {
  service: EventService;
  database: DatabaseHandle;
  nats: NatsClient;
  logger: Logger;
  /** Where its metrics go (the process's /metrics); none when omitted. */
  registry?: Registry;
  /** Rows read and published per round (default 100). */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (default 1 s). */
  pollMs?: number;
  /** Published rows older than this are deleted (config.events.outboxRetentionHours). */
  retentionHours: number;
  /** How often the retention sweep runs (default 1 min). */
  cleanupEveryMs?: number;
  /** How long one publish waits for the stream's ack (default 5 s). */
  publishTimeoutMs?: number;
  /**
   * Test hook, called after the stream acknowledged a round and before the rows are marked: throwing here is a
   * relay killed between publish and mark.
   */
  beforeMark?: (eventIds: string[]) => void | Promise<void>;
}

/** A running relay. */
export interface OutboxRelay {
  /** Ends the loop after the round in flight, publishes once more what committed meanwhile, stops listening. */
  stop(): Promise<void>;
  /** Asks for a round now (as a NOTIFY does); ignored while backing off after a failure. */
  wake(): void;
}

/** Backoff while NATS or the database fails: doubles from the first delay to the cap, with jitter. */
export const RELAY_BACKOFF = { firstMs: 250, maxMs: 10_000 } as const;

/** Rows the retention sweep deletes per statement, so one sweep never holds a long lock. */
const CLEANUP_CHUNK = 5_000;

/** The envelope is CloudEvents structured mode (the NATS protocol binding's content type). */
const CONTENT_TYPE = 'application/cloudevents+json';

type OutboxRow = {
  seq: number;
  eventId: string;
  subject: string;
  orderId: string;
  envelope: unknown;
  traceParent: string | null;
};

/** What one round did: how many it published, whether rows may be left, or that another replica holds it. */
type RoundResult = { published: number; full: boolean } | 'busy';

/** A round that could not publish because NATS is not connected right now (not worth waiting for a timeout). */
class NatsUnavailableError extends Error {}

/** Starts the relay loop of `service` in the background and returns at once. */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { service, database, nats } = options;
  const batchSize = options.batchSize ?? 100;
  const pollMs = options.pollMs ?? 1_000;
  const cleanupEveryMs = options.cleanupEveryMs ?? 60_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const log = options.logger.child({ service, component: 'outbox-relay' });
  const outbox: OutboxTable = OUTBOX_TABLES[service];
  const metrics = options.registry ? eventMetricsIn(options.registry) : undefined;
  const unwatch = metrics?.watchBacklog(service, () => readBacklog(database.db, outbox)) ?? (() => {});
  // One relay per service across replicas on Postgres: the others skip while one holds this lock.
  const lockKey = `order-saga.outbox-relay.${service}`;

  let stopping = false;
  let woken = false;
  let pause: { resolve(): void; wakeable: boolean } | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let listening: Promise<void> | undefined;

  const sleep = (ms: number, wakeable: boolean) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        pause = undefined;
        resolve();
      }
      pause = { resolve: done, wakeable };
    });

  const wake = () => {
    if (stopping) return;
    woken = true;
    if (pause?.wakeable) pause.resolve();
  };

  /** Starts listening in the background (a database that is down must not hold the rounds up); polls meanwhile. */
  const listen = () => {
    if (unlisten || listening || stopping) return;
    listening = database
      .listen(outboxChannel(service), wake)
      .then(
        async (stop) => {
          // Listening began after the relay stopped (stop() does not wait for a database that hangs).
          if (stopping) await stop().catch(() => {});
          else unlisten = stop;
        },
        (err) => log.debug({ err }, 'cannot LISTEN for outbox inserts yet; polling meanwhile'),
      )
      .finally(() => {
        listening = undefined;
      });
  };

  /** Publishes one batch and marks what the stream acknowledged, in `db` (a transaction on Postgres). */
  const publishBatch = async (db: Database, js: JetStreamClient) => {
    const rows: OutboxRow[] = await db
      .select({
        seq: outbox.seq,
        eventId: outbox.eventId,
        subject: outbox.subject,
        orderId: outbox.orderId,
        envelope: outbox.envelope,
        traceParent: outbox.traceParent,
      })
      .from(outbox)
      .where(isNull(outbox.publishedAt))
      .orderBy(asc(outbox.seq))
      .limit(batchSize);
    if (rows.length === 0) return { published: 0, full: false };
    const { acked, error } = await publishInOrder(js, rows, {
      service,
      metrics,
      timeoutMs: publishTimeoutMs,
    });
    if (acked.length > 0) {
      await options.beforeMark?.(acked.map((row) => row.eventId));
      await db
        .update(outbox)
        .set({ publishedAt: sql`now()` })
        .where(
          inArray(
            outbox.seq,
            acked.map((row) => row.seq),
          ),
        );
    }
    return { published: acked.length, full: rows.length === batchSize, error };
  };

  const round = async (): Promise<RoundResult> => {
    if (!nats.connected) throw new NatsUnavailableError('NATS is not connected');
    const js = await nats.jetstream();
    let outcome: Awaited<ReturnType<typeof publishBatch>> | 'busy';
    if (database.driver === 'postgres') {
      // The acked rows are marked in the same transaction; a publish error is returned, not thrown, so they commit.
      outcome = await database.db.transaction(async (tx) => {
        const result = await tx.execute(
          sql`select pg_try_advisory_xact_lock(hashtext(${lockKey})) as locked`,
        );
        const [lock] = rowsOf(result);
        if (!lock?.locked) return 'busy' as const;
        return publishBatch(tx, js);
      });
    } else {
      // PGlite is one process's database: no other relay of this service can exist.
      outcome = await publishBatch(database.db, js);
    }
    if (outcome === 'busy') return outcome;
    if (outcome.error !== undefined) throw outcome.error;
    return { published: outcome.published, full: outcome.full };
  };

  const cleanup = async () => {
    let deleted = 0;
    for (;;) {
      const expired = database.db
        .select({ seq: outbox.seq })
        .from(outbox)
        .where(lt(outbox.publishedAt, sql`now() - make_interval(hours => ${options.retentionHours})`))
        .orderBy(asc(outbox.seq))
        .limit(CLEANUP_CHUNK);
      const rows = await database.db
        .delete(outbox)
        .where(inArray(outbox.seq, expired))
        .returning({ seq: outbox.seq });
      deleted += rows.length;
      if (rows.length < CLEANUP_CHUNK || stopping) break;
    }
    if (deleted > 0) log.debug({ deleted, retentionHours: options.retentionHours }, 'outbox sweep');
  };

  const loop = async () => {
    let failures = 0;
    let failingSince = 0;
    let nextCleanup = 0;
    let lastRoundFailed = false;
    while (!stopping) {
      listen();
      if (Date.now() >= nextCleanup) {
        nextCleanup = Date.now() + cleanupEveryMs;
        await cleanup().catch((err) => {
          // During an outage the rounds' warning has said it already.
          const fields = { err, nextInMs: cleanupEveryMs };
          if (failures === 0) log.warn(fields, 'outbox retention sweep failed; the next one retries');
          else log.debug(fields, 'outbox retention sweep failed');
        });
      }
      woken = false;
      try {
        const result = await round();
        lastRoundFailed = false;
        if (failures > 0) {
          log.info({ failures, outageMs: Date.now() - failingSince }, 'outbox relay publishing again');
          failures = 0;
        }
        if (result === 'busy') await sleep(pollMs, false);
        else if (!result.full && !woken) await sleep(pollMs, true);
      } catch (err) {
        lastRoundFailed = true;
        failures += 1;
        // A round that found NATS away publishes nothing; it counts as one failed publish.
        if (err instanceof NatsUnavailableError) metrics?.publishErrors.inc({ service });
        const delayMs = backoffDelay(failures);
        if (failures === 1) {
          failingSince = Date.now();
          log.warn({ err, retryInMs: delayMs }, 'outbox relay cannot publish; retrying with backoff');
        } else {
          log.debug({ err, failures, retryInMs: delayMs }, 'outbox relay still failing');
        }
        await sleep(delayMs, false);
      }
    }
    // What committed since the last round (the workers' last activities) goes out now rather than at next start.
    if (!lastRoundFailed && nats.connected) {
      await round().catch((err) => log.debug({ err }, 'last outbox round before stop failed'));
    }
  };

  const running = loop().catch((err) => log.error({ err }, 'outbox relay loop ended unexpectedly'));
  let stopped: Promise<void> | undefined;
  return {
    wake,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        pause?.resolve();
        await running;
        unwatch();
        await unlisten?.().catch((err) => log.debug({ err }, 'UNLISTEN failed'));
      })();
      return stopped;
    },
  };
}

/**
 * Publishes `rows` (in `seq` order) to the stream: rows of different orders are in flight together, the rows of
 * one order one after another, each only once the stream acknowledged the one before. So an order's events are
 * stored in commit order even when a publish fails midway (its later rows are not sent and wait for the next
 * round), whichever replica or retry sends them. Returns the acknowledged rows and the first error.
 */
async function publishInOrder(
  js: JetStreamClient,
  rows: OutboxRow[],
  context: { service: EventService; metrics: EventMetrics | undefined; timeoutMs: number },
): Promise<{ acked: OutboxRow[]; error: unknown }> {
  const { service, metrics, timeoutMs } = context;
  const tails = new Map<string, Promise<boolean>>();
  let error: unknown;
  const outcomes = rows.map((row) => {
    const previous = tails.get(row.orderId) ?? Promise.resolve(true);
    const outcome = previous.then(async (previousAcked) => {
      if (!previousAcked) return false;
      const headers = natsHeaders();
      headers.set('Content-Type', CONTENT_TYPE);
      try {
        const ack = await tracedPublish(row, headers, () =>
          js.publish(row.subject, JSON.stringify(row.envelope), {
            msgID: row.eventId,
            expect: { streamName: ORDER_EVENTS_STREAM },
            headers,
            timeout: timeoutMs,
          }),
        );
        if (ack.duplicate) metrics?.duplicates.inc({ service });
        else metrics?.published.inc({ service, type: eventNameOf(row.subject) });
        return true;
      } catch (err) {
        error ??= err;
        metrics?.publishErrors.inc({ service });
        return false;
      }
    });
    tails.set(row.orderId, outcome);
    return outcome;
  });
  const acked = await Promise.all(outcomes);
  return { acked: rows.filter((_, i) => acked[i]), error };
}

/** The event name of a subject `events.<service>.<Event>.<orderId>`. */
function eventNameOf(subject: string): string {
  return subject.split('.')[2] ?? 'unknown';
}

/** The pause before retry number `failures`: 250 ms doubling to 10 s, between half and all of it (jitter). */
export function backoffDelay(failures: number): number {
  const ceiling = Math.min(RELAY_BACKOFF.maxMs, RELAY_BACKOFF.firstMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** How many rows of `outbox` wait and how old the oldest is: one scan of the unpublished index. */
export async function readBacklog(db: Database, outbox: OutboxTable): Promise<OutboxBacklog> {
  const [row] = await db
    .select({
      rows: sql<number>`count(*)::int`.mapWith(Number),
      oldestAgeSeconds:
        sql<number>`coalesce(extract(epoch from now() - min(${outbox.createdAt})), 0)::float8`.mapWith(
          Number,
        ),
    })
    .from(outbox)
    .where(isNull(outbox.publishedAt));
  return { rows: row?.rows ?? 0, oldestAgeSeconds: Math.max(0, row?.oldestAgeSeconds ?? 0) };
}

/** The rows of a raw query, whichever driver ran it (postgres.js returns an array, PGlite `{ rows }`). */
function rowsOf(result: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(result)) return result as Array<Record<string, unknown>>;
  return ((result as { rows?: Array<Record<string, unknown>> }).rows ?? []) as Array<Record<string, unknown>>;
}
