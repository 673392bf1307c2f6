/**
 * The JetStream streams of the events: ORDER_EVENTS (every domain event, `events.>`) and ORDER_EVENTS_DLQ (what a
 * consumer could never handle, `dlq.>`). `ensureStreams` creates them, or updates their limits when the
 * configuration changed, so every process that publishes or consumes can call it at start.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { DEAD_LETTER_STREAM, ORDER_EVENTS_STREAM } from '../contracts/events.js';
import type { EventStreamSettings } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { NatsClient } from './nats.js';

/** Subjects of ORDER_EVENTS: `events.<service>.<Event>.<orderId>` (contracts/events.ts `eventSubject`). */
export const ORDER_EVENTS_SUBJECTS = 'events.>';
/** Subjects of the dead-letter stream: `dlq.<consumer>.<service>.<Event>.<orderId>`. */
export const DEAD_LETTER_SUBJECTS = 'dlq.>';
/** How long a dead letter is kept for inspection and re-driving. */
export const DEAD_LETTER_MAX_AGE_HOURS = 30 * 24;

/** Headers a dead letter carries next to the original message's bytes. */
export const DEAD_LETTER_HEADERS = {
  reason: 'Saga-Dead-Reason',
  originalSubject: 'Saga-Original-Subject',
  originalSeq: 'Saga-Original-Seq',
  deliveries: 'Saga-Deliveries',
} as const;

/** The dead-letter subject of a message `consumer` gave up on: `dlq.<consumer>.<subject without "events.">`. */
export function deadLetterSubject(consumer: string, originalSubject: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(consumer))
    throw new Error(`consumer name "${consumer}" is not a subject token`);
  const rest = originalSubject.startsWith('events.')
    ? originalSubject.slice('events.'.length)
    : originalSubject;
  return `dlq.${consumer}.${rest}`;
}

const HOUR_MS = 3_600_000;
/** JetStream's error code for a create whose name is taken by a stream with another configuration. */
const STREAM_NAME_IN_USE = 10058;

/** What a stream's configuration must say; the limits are the ones `ensureStreams` keeps up to date. */
type DesiredStream = Pick<
  StreamConfig,
  | 'name'
  | 'description'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'discard'
  | 'max_age'
  | 'max_bytes'
  | 'duplicate_window'
  | 'num_replicas'
>;

/** Fields a running stream can change (retention and storage cannot be changed after creation). */
const UPDATABLE = [
  'subjects',
  'discard',
  'max_age',
  'max_bytes',
  'duplicate_window',
  'num_replicas',
] as const;

/** The configuration of both streams for these settings. */
export function streamConfigs(settings: EventStreamSettings): DesiredStream[] {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(settings.duplicateWindowSeconds * 1_000),
    num_replicas: settings.replicas,
  };
  return [
    {
      ...common,
      name: ORDER_EVENTS_STREAM,
      description: 'Domain events of the order saga, one per committed state change (CloudEvents JSON)',
      subjects: [ORDER_EVENTS_SUBJECTS],
      max_age: nanos(settings.maxAgeHours * HOUR_MS),
      max_bytes: settings.maxBytes,
    },
    {
      ...common,
      name: DEAD_LETTER_STREAM,
      description: 'Events a consumer could never handle, with the reason in Saga-Dead-Reason',
      subjects: [DEAD_LETTER_SUBJECTS],
      max_age: nanos(DEAD_LETTER_MAX_AGE_HOURS * HOUR_MS),
      max_bytes: -1,
    },
  ];
}

/** What `ensureStreams` did to one stream. */
export interface EnsuredStream {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  info: StreamInfo;
}

const isApiError = (err: unknown, code: number): boolean =>
  err instanceof JetStreamApiError && err.code === code;

/** The limits that differ between a running stream and what it should be. */
function differences(current: StreamConfig, desired: DesiredStream): string[] {
  return UPDATABLE.filter((field) => JSON.stringify(current[field]) !== JSON.stringify(desired[field]));
}

async function ensureStream(jsm: JetStreamManager, desired: DesiredStream): Promise<EnsuredStream> {
  let current: StreamInfo;
  try {
    current = await jsm.streams.info(desired.name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      return { name: desired.name, action: 'created', info: await jsm.streams.add(desired) };
    } catch (addErr) {
      // Another process created it first (with other limits): update it as if it had been there.
      if (!isApiError(addErr, STREAM_NAME_IN_USE)) throw addErr;
      current = await jsm.streams.info(desired.name);
    }
  }
  if (differences(current.config, desired).length === 0) {
    return { name: desired.name, action: 'unchanged', info: current };
  }
  const { name, retention: _retention, storage: _storage, ...limits } = desired;
  return { name, action: 'updated', info: await jsm.streams.update(name, limits) };
}

/**
 * Creates ORDER_EVENTS and ORDER_EVENTS_DLQ, or updates their limits (subjects, max age, max bytes, duplicate
 * window, replicas) when they differ from `settings`; a second call with the same settings changes nothing.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  settings: EventStreamSettings,
): Promise<EnsuredStream[]> {
  const ensured: EnsuredStream[] = [];
  for (const desired of streamConfigs(settings)) ensured.push(await ensureStream(jsm, desired));
  return ensured;
}

/** Longest pause between attempts to create the streams on a NATS server that refuses (JetStream off, say). */
const STREAMS_RETRY_MAX_MS = 30_000;

/**
 * Creates or updates the event streams once NATS answers, in the background so a process starts while NATS is
 * down (callers need not await it); retries a server that answers but refuses, until the client closes. Until then the relays back off.
 */
export function ensureStreamsWhenReachable(
  nats: NatsClient,
  settings: EventStreamSettings,
  logger: Logger,
): Promise<void> {
  const attempt = async (delayMs: number): Promise<void> => {
    try {
      const ensured = await ensureStreams(await nats.manager(), settings);
      logger.info({ streams: ensured.map(({ name, action }) => `${name} ${action}`) }, 'event streams ready');
    } catch (err) {
      if ((err as Error).message === 'NATS client closed') return; // the process is stopping
      logger.error({ err, retryInMs: delayMs }, 'event streams could not be created; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      return attempt(Math.min(delayMs * 2, STREAMS_RETRY_MAX_MS));
    }
  };
  return attempt(1_000);
}
