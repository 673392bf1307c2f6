/**
 * The JetStream side of an event consumer (events/consumer.ts): the configuration of its durable pull consumer on
 * ORDER_EVENTS, and `ensureConsumer`, which creates it or updates what changed, so every instance (and the replay
 * tool) can call it at start.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerUpdateConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  ReplayPolicy,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ORDER_EVENTS_STREAM } from '../contracts/events.js';

/** Where a consumer created now starts; an existing durable keeps its position. */
export type ConsumerStart = 'all' | 'new' | { sequence: number } | { time: Date };

/** What a consumer's JetStream configuration is made of. */
export interface ConsumerSettings {
  name: string;
  filterSubjects: readonly string[];
  description?: string;
  start?: ConsumerStart;
  maxDeliver: number;
  backoffMs: readonly number[];
  ackWaitMs: number;
}

/** The server answers `consumer name already in use` when two instances create the same durable at once. */
const CONSUMER_NAME_IN_USE = 10_148;

const isApiError = (err: unknown, code: number): boolean =>
  err instanceof JetStreamApiError && err.code === code;

/** The JetStream configuration of a consumer; `metadata` records the retry schedule the runtime applies. */
export function consumerConfig(options: ConsumerSettings): Partial<ConsumerConfig> {
  const start = options.start ?? 'all';
  return {
    durable_name: options.name,
    description: options.description ?? `order-saga consumer ${options.name}`,
    ack_policy: AckPolicy.Explicit,
    // No `backoff` here: JetStream would take its first entry as the ack wait (a slow handler's event would be
    // handed out again after 1 s) and ignores it for a NAK; the runtime NAKs with the delay instead.
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: options.maxDeliver,
    filter_subjects: [...options.filterSubjects],
    replay_policy: ReplayPolicy.Instant,
    metadata: { 'order-saga.backoff_ms': options.backoffMs.join(',') },
    ...(start === 'all'
      ? { deliver_policy: DeliverPolicy.All }
      : start === 'new'
        ? { deliver_policy: DeliverPolicy.New }
        : 'sequence' in start
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.sequence }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time.toISOString() }),
  };
}

/** Fields of a running consumer that an update may change. */
const UPDATABLE = ['description', 'ack_wait', 'max_deliver', 'filter_subjects'] as const;

/** Creates the durable, or updates what changed of its configuration; the start position stays as it was. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  desired: Partial<ConsumerConfig>,
): Promise<ConsumerInfo> {
  const name = desired.durable_name as string;
  let current: ConsumerInfo;
  try {
    current = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    try {
      return await jsm.consumers.add(ORDER_EVENTS_STREAM, desired);
    } catch (addErr) {
      if (!isApiError(addErr, CONSUMER_NAME_IN_USE)) throw addErr;
      current = await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
    }
  }
  const changed = UPDATABLE.filter(
    (field) => JSON.stringify(current.config[field]) !== JSON.stringify(desired[field]),
  );
  // The server adds `_nats.*` keys of its own; only ours are compared and sent.
  const ours = Object.entries(current.config.metadata ?? {}).filter(([key]) => !key.startsWith('_nats'));
  const metadata = { ...Object.fromEntries(ours), ...desired.metadata };
  const metadataChanged = Object.entries(desired.metadata ?? {}).some(
    ([key, value]) => current.config.metadata?.[key] !== value,
  );
  if (changed.length === 0 && !metadataChanged) return current;
  const update: Partial<ConsumerUpdateConfig> = { metadata };
  for (const field of UPDATABLE) Object.assign(update, { [field]: desired[field] });
  return jsm.consumers.update(ORDER_EVENTS_STREAM, name, update);
}
