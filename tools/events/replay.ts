/**
 * The logic of `npm run events:replay`: (re)starts a durable consumer on ORDER_EVENTS from a stream position. A
 * missing durable is created with the standard configuration (events/consumer-config.ts); an existing one is deleted
 * and created again at the new position, since JetStream cannot move a durable's start. A consumer that holds
 * unacknowledged deliveries is left alone unless forced.
 */
import { parseArgs } from 'node:util';
import {
  type ConsumerConfig,
  type ConsumerInfo,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { NOTIFICATIONS_CONSUMER, notificationSubjects } from '../../consumers/notifications/handler.js';
import { ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { CONSUMER_DEFAULTS } from '../../events/consumer.js';
import { type ConsumerSettings, type ConsumerStart, consumerConfig } from '../../events/consumer-config.js';
import { deadLetterSubject } from '../../events/streams.js';
import { UsageError } from './connect.js';

/** The command line of `events:replay`. */
export const REPLAY_USAGE = `usage: npm run events:replay -- --consumer <durable> (--since <ISO time> | --from-seq <n> | --new)
                                [--filter <subject> ...] [--dry-run] [--force]

  --since <time>    start at the first event stored at or after this time (ISO 8601)
  --from-seq <n>    start at stream sequence n of ORDER_EVENTS (n itself included)
  --new             start after the last event stored now (only events published from now on)
  --filter <subj>   subjects to consume (repeatable); default: the existing durable's, or the notifications
                    service's for --consumer notifications
  --dry-run         print what would be done and change nothing
  --force           reset even while deliveries are unacknowledged (they are handed out again)`;

/** Where a replayed consumer starts. */
export type ReplayStart = Exclude<ConsumerStart, 'all'>;

/** What an operator asked for. */
export interface ReplayRequest {
  consumer: string;
  start: ReplayStart;
  /** Empty: keep the existing durable's subjects (or the service's defaults for a new one). */
  filterSubjects: string[];
  dryRun: boolean;
  force: boolean;
}

/** The durable as it was before the replay. */
export interface ConsumerState {
  pending: number;
  ackPending: number;
  /** Pull requests waiting: a running instance, which carries on from the new position. */
  waiting: number;
  lastDeliveredSeq: number;
  created: string;
}

/** What the replay does, decided before anything changes. */
export interface ReplayPlan {
  consumer: string;
  action: 'create' | 'recreate';
  start: ReplayStart;
  config: Partial<ConsumerConfig>;
  /** The durable before, when it exists. */
  current?: ConsumerState;
  /** Why nothing is done, when the plan is refused. */
  refusal?: string;
}

/** What the replay did. */
export interface ReplayOutcome {
  plan: ReplayPlan;
  /** The durable as created; absent for a dry run or a refusal. */
  info?: ConsumerInfo;
}

/** The server answers `consumer name already in use` when a running instance created the durable first. */
const CONSUMER_NAME_IN_USE = 10_148;
/** A running instance re-creates a deleted durable on its own; this many tries win the race against it. */
const RECREATE_ATTEMPTS = 3;
const NANOS_PER_MS = 1_000_000;
const BACKOFF_METADATA = 'order-saga.backoff_ms';

const isApiError = (err: unknown, code: number): boolean =>
  err instanceof JetStreamApiError && err.code === code;

/** Parses the arguments after `npm run events:replay --`. */
export function parseReplayArgs(argv: string[]): ReplayRequest {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const consumer = values.consumer;
  if (!consumer) throw new UsageError('--consumer is required');
  const starts = [values.since, values['from-seq'], values.new ? 'new' : undefined].filter(Boolean);
  if (starts.length !== 1) throw new UsageError('give exactly one of --since, --from-seq, --new');
  return {
    consumer,
    start: startOf(values),
    filterSubjects: values.filter ?? [],
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      consumer: { type: 'string' },
      since: { type: 'string' },
      'from-seq': { type: 'string' },
      new: { type: 'boolean' },
      filter: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
    },
  });
}

function startOf(values: { since?: string; 'from-seq'?: string; new?: boolean }): ReplayStart {
  if (values.new) return 'new';
  if (values.since !== undefined) {
    const time = new Date(values.since);
    if (Number.isNaN(time.getTime())) throw new UsageError(`--since "${values.since}" is not a time`);
    return { time };
  }
  const sequence = Number(values['from-seq']);
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    throw new UsageError(`--from-seq "${values['from-seq']}" is not a stream sequence (1 or more)`);
  }
  return { sequence };
}

/** The durable's current state, or undefined when it does not exist. */
async function currentConsumer(jsm: JetStreamManager, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(ORDER_EVENTS_STREAM, name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) {
      throw new Error(
        `stream ${ORDER_EVENTS_STREAM} does not exist: no service has published events here yet`,
      );
    }
    throw err;
  }
}

/** The settings of the consumer to create: the existing durable's retry settings, else the runtime's defaults. */
function settingsFor(request: ReplayRequest, current: ConsumerInfo | undefined): ConsumerSettings {
  const existing = current?.config;
  const existingSubjects = existing
    ? (existing.filter_subjects ?? (existing.filter_subject ? [existing.filter_subject] : []))
    : [];
  const filterSubjects =
    request.filterSubjects.length > 0
      ? request.filterSubjects
      : existingSubjects.length > 0
        ? existingSubjects
        : request.consumer === NOTIFICATIONS_CONSUMER
          ? notificationSubjects()
          : [];
  if (filterSubjects.length === 0) {
    throw new UsageError(
      `--filter is required: consumer "${request.consumer}" is new and not a known service`,
    );
  }
  const backoff = existing?.metadata?.[BACKOFF_METADATA]?.split(',').map(Number);
  return {
    name: request.consumer,
    filterSubjects,
    start: request.start,
    maxDeliver: existing?.max_deliver ?? CONSUMER_DEFAULTS.maxDeliver,
    ackWaitMs: existing?.ack_wait ? existing.ack_wait / NANOS_PER_MS : CONSUMER_DEFAULTS.ackWaitMs,
    backoffMs: backoff?.every((ms) => Number.isFinite(ms) && ms >= 0) ? backoff : CONSUMER_DEFAULTS.backoffMs,
    ...(existing?.description ? { description: existing.description } : {}),
  };
}

const stateOf = (info: ConsumerInfo): ConsumerState => ({
  pending: info.num_pending,
  ackPending: info.num_ack_pending,
  waiting: info.num_waiting,
  lastDeliveredSeq: info.delivered.stream_seq,
  created: info.created,
});

function refusalOf(consumer: string, state: ConsumerState | undefined, force: boolean): string | undefined {
  if (!state || state.ackPending === 0 || force) return undefined;
  return (
    `consumer "${consumer}" has ${state.ackPending} delivered event(s) not acknowledged yet: an instance ` +
    'is working on them. Resetting now hands them out again; wait for them, stop its instances, or pass --force.'
  );
}

/** Decides what the replay does, changing nothing. */
export async function planReplay(jsm: JetStreamManager, request: ReplayRequest): Promise<ReplayPlan> {
  deadLetterSubject(request.consumer, 'events.x'); // a durable's name must be a subject token
  const current = await currentConsumer(jsm, request.consumer);
  const state = current ? stateOf(current) : undefined;
  const refusal = refusalOf(request.consumer, state, request.force);
  return {
    consumer: request.consumer,
    action: current ? 'recreate' : 'create',
    start: request.start,
    config: consumerConfig(settingsFor(request, current)),
    ...(state ? { current: state } : {}),
    ...(refusal ? { refusal } : {}),
  };
}

/** Creates the durable of a plan, deleting the existing one first; checks the refusal again just before. */
async function applyPlan(jsm: JetStreamManager, plan: ReplayPlan, force: boolean): Promise<ConsumerInfo> {
  if (plan.action === 'create') {
    try {
      return await jsm.consumers.add(ORDER_EVENTS_STREAM, plan.config);
    } catch (err) {
      if (!isApiError(err, CONSUMER_NAME_IN_USE)) throw err;
      throw new Error(
        `consumer "${plan.consumer}" was created meanwhile by someone else; run the replay again`,
      );
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    const now = await currentConsumer(jsm, plan.consumer);
    const refusal = now ? refusalOf(plan.consumer, stateOf(now), force) : undefined;
    if (refusal) throw new Error(refusal);
    if (now) await jsm.consumers.delete(ORDER_EVENTS_STREAM, plan.consumer);
    try {
      return await jsm.consumers.add(ORDER_EVENTS_STREAM, plan.config);
    } catch (err) {
      // A running instance saw its durable go and created it again at its own default start: delete that one.
      if (!isApiError(err, CONSUMER_NAME_IN_USE) || attempt >= RECREATE_ATTEMPTS) throw err;
    }
  }
}

/** Plans the replay and, unless it is a dry run or refused, carries it out. */
export async function replayConsumer(jsm: JetStreamManager, request: ReplayRequest): Promise<ReplayOutcome> {
  const plan = await planReplay(jsm, request);
  if (plan.refusal || request.dryRun) return { plan };
  return { plan, info: await applyPlan(jsm, plan, request.force) };
}

/** The start position in words. */
export function describeStart(start: ReplayStart): string {
  if (start === 'new') return 'after the last event stored now (new events only)';
  if ('sequence' in start) return `stream sequence ${start.sequence} of ${ORDER_EVENTS_STREAM} (included)`;
  return `the first event stored at or after ${start.time.toISOString()}`;
}

/** What the tool prints about an outcome. */
export function replayReport({ plan, info }: ReplayOutcome, dryRun: boolean): string[] {
  const { current } = plan;
  const before = current
    ? `exists (pending ${current.pending}, ack pending ${current.ackPending}, last delivered sequence ` +
      `${current.lastDeliveredSeq}, ${current.waiting} pull request(s) waiting)`
    : 'does not exist';
  const lines = [`consumer ${plan.consumer} on ${ORDER_EVENTS_STREAM}: ${before}`];
  if (plan.refusal) return [...lines, `refused: ${plan.refusal}`];
  const verb = plan.action === 'create' ? 'create it' : 'delete it and create it again';
  lines.push(
    `${dryRun ? 'would' : 'did'}: ${verb}, starting at ${describeStart(plan.start)}`,
    `  filter subjects: ${(plan.config.filter_subjects ?? []).join(', ')}`,
    `  max deliver ${plan.config.max_deliver}, ack wait ${Number(plan.config.ack_wait) / NANOS_PER_MS} ms, ` +
      `backoff ${plan.config.metadata?.[BACKOFF_METADATA]} ms`,
  );
  if (dryRun) return [...lines, 'dry run: nothing changed'];
  if (info) lines.push(`pending now: ${info.num_pending} event(s) to deliver`);
  if (current && current.waiting > 0) {
    lines.push('its running instances carry on from the new position (they pull from the new durable)');
  }
  lines.push(
    'the consumer dedupes by event id through its inbox: events it already handled are acknowledged as ' +
      'duplicates with no second effect; only events it never handled take effect',
  );
  return lines;
}
