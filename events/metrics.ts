/**
 * The relay's metrics (prom-client), registered once per registry: the outbox backlog and the age of its oldest
 * unpublished event per service (read from the database at each scrape, so they survive restarts and agree across
 * replicas), and what the relay published, dropped as duplicate, or failed to publish. See docs/OBSERVABILITY.md.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventService } from '../contracts/events.js';

/** Name of the gauge of unpublished outbox rows per service; alerts watch it. */
export const OUTBOX_BACKLOG_METRIC = 'saga_outbox_backlog';
/** Name of the gauge of the oldest unpublished event's age per service; the backlog-age alert watches it. */
export const OUTBOX_OLDEST_AGE_METRIC = 'saga_outbox_oldest_unpublished_age_seconds';

/** What a service's outbox holds right now. */
export interface OutboxBacklog {
  /** Rows not yet published. */
  rows: number;
  /** Seconds since the oldest of them was recorded; 0 when there are none. */
  oldestAgeSeconds: number;
}

/** Reads a service's backlog; called at every scrape. */
export type BacklogReader = () => Promise<OutboxBacklog>;

/** The relay metrics of one registry. */
export interface EventMetrics {
  /** Events the stream stored (an ack that was not a duplicate), by service and event name. */
  published: Counter<'service' | 'type'>;
  /** Publishes the stream answered as duplicates: a relay re-sent what it had published but not marked. */
  duplicates: Counter<'service'>;
  /** Publishes that got no ack (timeout, stream error), and rounds that found NATS disconnected, by service. */
  publishErrors: Counter<'service'>;
  /**
   * Makes the backlog gauges read `service`'s outbox at each scrape, until the returned function is called (a
   * relay registers itself while it runs; the latest one for a service wins).
   */
  watchBacklog(service: EventService, read: BacklogReader): () => void;
}

/** A scrape must not hang on a database that does not answer: past this the gauges read NaN. */
const BACKLOG_READ_TIMEOUT_MS = 5_000;

const byRegistry = new WeakMap<Registry, EventMetrics>();

/** The relay metrics of `registry`, created on first use (several relays of one process share them). */
export function eventMetricsIn(registry: Registry): EventMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const readers = new Map<EventService, BacklogReader>();
  /** One read per scrape, shared by both gauges (prom-client collects them one after the other). */
  let scrape: Promise<Map<EventService, OutboxBacklog | undefined>> | undefined;
  const readAll = () => {
    scrape ??= Promise.all(
      [...readers].map(async ([service, read]) => [service, await withTimeout(read())] as const),
    )
      .then((entries) => new Map(entries))
      .finally(() => {
        // Gone after this tick, so the next scrape reads afresh.
        setImmediate(() => {
          scrape = undefined;
        });
      });
    return scrape;
  };
  const backlogGauge = (name: string, help: string, pick: (backlog: OutboxBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['service'],
      registers,
      async collect() {
        const backlogs = await readAll();
        this.reset();
        // A database outage must not break the scrape: the gauge reads NaN meanwhile.
        for (const [service, backlog] of backlogs)
          this.set({ service }, backlog ? pick(backlog) : Number.NaN);
      },
    });
  backlogGauge(
    OUTBOX_BACKLOG_METRIC,
    'Outbox rows not yet published to NATS, by service (read from the database at scrape)',
    (backlog) => backlog.rows,
  );
  backlogGauge(
    OUTBOX_OLDEST_AGE_METRIC,
    'Age of the oldest outbox row not yet published, by service (0 when none waits)',
    (backlog) => backlog.oldestAgeSeconds,
  );
  const metrics: EventMetrics = {
    published: new Counter({
      name: 'saga_events_published_total',
      help: 'Domain events stored by the ORDER_EVENTS stream, by service and event name',
      labelNames: ['service', 'type'],
      registers,
    }),
    duplicates: new Counter({
      name: 'saga_events_publish_duplicates_total',
      help: 'Publishes the stream dropped as duplicates (re-sent after a relay stopped between publish and mark)',
      labelNames: ['service'],
      registers,
    }),
    publishErrors: new Counter({
      name: 'saga_events_publish_errors_total',
      help: 'Publishes that got no ack (timeout, stream error), plus one per round that found NATS disconnected, by service',
      labelNames: ['service'],
      registers,
    }),
    watchBacklog(service, read) {
      // Series that exist from the start, so rate() and alerts see a 0 rather than nothing.
      metrics.duplicates.inc({ service }, 0);
      metrics.publishErrors.inc({ service }, 0);
      readers.set(service, read);
      return () => {
        if (readers.get(service) === read) readers.delete(service);
      };
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

async function withTimeout(read: Promise<OutboxBacklog>): Promise<OutboxBacklog | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), BACKLOG_READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
