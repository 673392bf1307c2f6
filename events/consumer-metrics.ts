/**
 * Metrics of the event consumers (events/consumer.ts), registered once per registry: what each consumer did with
 * the events it received, its redeliveries and dead letters, and its lag as JetStream counts it (asked at scrape
 * time, so a dashboard sees the backlog even while the consumer is stuck). See docs/EVENTS.md.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What a consumer did with one delivery. */
export const CONSUMED_OUTCOMES = ['handled', 'duplicate', 'dead_letter', 'retry'] as const;
/** One outcome of {@link CONSUMED_OUTCOMES}. */
export type ConsumedOutcome = (typeof CONSUMED_OUTCOMES)[number];

/** A consumer's counts as its JetStream consumer reports them. */
export interface ConsumerLag {
  /** Messages of the stream matching its filter that were not delivered yet (`num_pending`). */
  pending: number;
  /** Messages delivered and not acknowledged yet (`num_ack_pending`). */
  ackPending: number;
}

/** The consumer metrics of one registry. */
export interface ConsumerMetrics {
  consumed: Counter<'consumer' | 'type' | 'outcome'>;
  redeliveries: Counter<'consumer'>;
  deadLetters: Counter<'consumer'>;
  /**
   * Reports `consumer`'s lag at every scrape through `lag` (undefined or a rejection: unknown, not exported);
   * returns the function that stops it.
   */
  watchLag(consumer: string, lag: () => Promise<ConsumerLag | undefined>): () => void;
}

/** A scrape waits at most this long for JetStream's answer; a slow NATS must not stall /metrics. */
export const LAG_SCRAPE_TIMEOUT_MS = 1_000;

const byRegistry = new WeakMap<Registry, ConsumerMetrics>();

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The consumer metrics of `registry`, created on first use (several consumers may share a process). */
export function consumerMetricsIn(registry: Registry): ConsumerMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const watched = new Map<string, () => Promise<ConsumerLag | undefined>>();
  // Both gauges are collected in the same scrape: one consumer-info request per consumer serves both.
  let scrape: Promise<Map<string, ConsumerLag>> | undefined;
  const lagNow = () => {
    scrape ??= (async () => {
      const entries = await Promise.all(
        [...watched].map(async ([consumer, lag]) => {
          try {
            return [consumer, await withTimeout(lag(), LAG_SCRAPE_TIMEOUT_MS)] as const;
          } catch {
            return [consumer, undefined] as const;
          }
        }),
      );
      setTimeout(() => {
        scrape = undefined;
      }, 250).unref();
      return new Map(entries.filter((entry): entry is [string, ConsumerLag] => entry[1] !== undefined));
    })();
    return scrape;
  };
  const lagGauge = (name: string, help: string, field: keyof ConsumerLag) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer'],
      registers,
      async collect() {
        const lags = await lagNow();
        this.reset();
        for (const [consumer, lag] of lags) this.set({ consumer }, lag[field]);
      },
    });
  lagGauge(
    'saga_consumer_pending',
    'Events matching a consumer that it was not delivered yet (JetStream num_pending): its lag',
    'pending',
  );
  lagGauge(
    'saga_consumer_ack_pending',
    'Events delivered to a consumer and not acknowledged yet (JetStream num_ack_pending)',
    'ackPending',
  );
  const metrics: ConsumerMetrics = {
    consumed: new Counter({
      name: 'saga_events_consumed_total',
      help: 'Deliveries a consumer finished, by event type and outcome (handled, duplicate, dead_letter, retry)',
      labelNames: ['consumer', 'type', 'outcome'],
      registers,
    }),
    redeliveries: new Counter({
      name: 'saga_events_redeliveries_total',
      help: 'Deliveries of an event the consumer had been given before (after a retry, a crash or a timeout)',
      labelNames: ['consumer'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'saga_events_dead_letters_total',
      help: 'Events a consumer gave up on and published to ORDER_EVENTS_DLQ',
      labelNames: ['consumer'],
      registers,
    }),
    watchLag(consumer, lag) {
      watched.set(consumer, lag);
      return () => {
        if (watched.get(consumer) === lag) watched.delete(consumer);
      };
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
