/**
 * The logic of `npm run events:dlq`: read the dead letters of ORDER_EVENTS_DLQ (what a consumer gave up on, with
 * the reason in its headers), re-drive them to ORDER_EVENTS under their original subject, or delete them.
 */
import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs, nanos } from '@nats-io/transport-node';
import { DEAD_LETTER_STREAM, ORDER_EVENTS_STREAM } from '../../contracts/events.js';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_SUBJECTS, deadLetterSubject } from '../../events/streams.js';
import type { JetStreamAccess } from './connect.js';

/** Header of a re-driven event naming the dead letter it came from (`ORDER_EVENTS_DLQ:<seq>`). */
export const REDRIVEN_FROM_HEADER = 'Saga-Redriven-From';

/** One dead letter, read from its headers. */
export interface DeadLetter {
  /** Its sequence in ORDER_EVENTS_DLQ: what `show`, `redrive` and `purge` take. */
  seq: number;
  time: Date;
  /** The durable that gave up on it. */
  consumer: string;
  originalSubject: string;
  originalSeq: number | undefined;
  deliveries: number | undefined;
  reason: string;
  /** The envelope's `id`, when the body is an event at all. */
  eventId: string | undefined;
  headers: Record<string, string[]>;
  data: Uint8Array;
}

/** Which dead letters a command acts on. */
export type DeadLetterSelection = { seqs: number[] } | { all: true; consumer?: string };

/** A dead letter put back into ORDER_EVENTS. */
export interface Redriven {
  letter: DeadLetter;
  /** Its new sequence in ORDER_EVENTS. */
  seq: number;
  msgID: string;
  /** True when this re-drive had been published before (a re-drive that stopped before its delete). */
  duplicate: boolean;
}

/** Dead letters read per pull. */
const BATCH = 256;
/** How long one pull may wait for dead letters the reader said are there. */
const FETCH_EXPIRES_MS = 10_000;

function headerRecord(h: MsgHdrs | undefined): Record<string, string[]> {
  if (!h) return {};
  return Object.fromEntries(h.keys().map((key) => [key, h.values(key)]));
}

const optionalNumber = (value: string | undefined) =>
  value === undefined || value === '' ? undefined : Number(value);

function eventIdOf(data: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(data)) as { id?: unknown }).id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A dead letter from a stored message (a `getMessage` answer or a delivery). */
export function deadLetterOf(msg: {
  seq: number;
  subject: string;
  time: Date;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
}): DeadLetter {
  const get = (key: string) => msg.headers?.get(key) || undefined;
  return {
    seq: msg.seq,
    time: msg.time,
    consumer: msg.subject.split('.')[1] ?? '',
    originalSubject: get(DEAD_LETTER_HEADERS.originalSubject) ?? '',
    originalSeq: optionalNumber(get(DEAD_LETTER_HEADERS.originalSeq)),
    deliveries: optionalNumber(get(DEAD_LETTER_HEADERS.deliveries)),
    reason: get(DEAD_LETTER_HEADERS.reason) ?? '',
    eventId: eventIdOf(msg.data),
    headers: headerRecord(msg.headers),
    data: msg.data,
  };
}

// Both kinds of message expose their fields as getters, which a spread would not copy.
const fromStored = (msg: StoredMsg) =>
  deadLetterOf({ seq: msg.seq, subject: msg.subject, time: msg.time, data: msg.data, headers: msg.header });

/** The subjects of one consumer's dead letters, or of all. */
function filterOf(consumer: string | undefined): string {
  return consumer ? deadLetterSubject(consumer, 'events.>') : DEAD_LETTER_SUBJECTS;
}

/**
 * Dead letters oldest first (at most `limit`), and how many there are. Read through a short-lived consumer of the
 * dead-letter stream that acknowledges nothing, so reading changes nothing.
 */
export async function listDeadLetters(
  { js, jsm }: JetStreamAccess,
  options: { consumer?: string; limit?: number } = {},
): Promise<{ letters: DeadLetter[]; total: number }> {
  const name = `dlq-reader-${randomBytes(6).toString('hex')}`;
  const info = await jsm.consumers.add(DEAD_LETTER_STREAM, {
    name,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subjects: [filterOf(options.consumer)],
    inactive_threshold: nanos(60_000),
    mem_storage: true,
    num_replicas: 1,
  });
  const total = info.num_pending;
  const wanted = Math.min(total, options.limit ?? total);
  const letters: DeadLetter[] = [];
  try {
    const reader = await js.consumers.get(DEAD_LETTER_STREAM, name);
    while (letters.length < wanted) {
      const batch = await reader.fetch({
        max_messages: Math.min(BATCH, wanted - letters.length),
        expires: FETCH_EXPIRES_MS,
      });
      const before = letters.length;
      for await (const msg of batch) {
        letters.push(
          deadLetterOf({
            seq: msg.seq,
            subject: msg.subject,
            time: msg.time,
            data: msg.data,
            headers: msg.headers,
          }),
        );
      }
      if (letters.length === before) break; // purged while reading
    }
  } finally {
    await jsm.consumers.delete(DEAD_LETTER_STREAM, name).catch(() => false);
  }
  return { letters, total };
}

/** One dead letter by its sequence; an error when there is none. */
export async function getDeadLetter(jsm: JetStreamManager, seq: number): Promise<DeadLetter> {
  const stored = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq });
  if (!stored) throw new Error(`no dead letter with sequence ${seq} in ${DEAD_LETTER_STREAM}`);
  return fromStored(stored);
}

/** The dead letters a selection names (every one of a consumer, or all, for `all`). */
async function selected(access: JetStreamAccess, selection: DeadLetterSelection): Promise<DeadLetter[]> {
  if ('all' in selection) {
    return (await listDeadLetters(access, selection.consumer ? { consumer: selection.consumer } : {}))
      .letters;
  }
  const letters: DeadLetter[] = [];
  for (const seq of selection.seqs) letters.push(await getDeadLetter(access.jsm, seq));
  return letters;
}

/** The message id of a re-drive: new, so the stream's dedupe window keeps it, and the same if it is retried. */
export function redriveMsgId(letter: DeadLetter): string {
  const origin = letter.eventId ?? `${letter.consumer}:${letter.originalSeq ?? 'unknown'}`;
  return `${origin}:redrive:${letter.seq}`;
}

/** Publishes one dead letter's body to its original subject, then deletes it from the dead-letter stream. */
export async function redriveDeadLetter({ js, jsm }: JetStreamAccess, letter: DeadLetter): Promise<Redriven> {
  if (!letter.originalSubject.startsWith('events.')) {
    throw new Error(
      `dead letter ${letter.seq} has no original subject in ORDER_EVENTS (${DEAD_LETTER_HEADERS.originalSubject}: ` +
        `"${letter.originalSubject}")`,
    );
  }
  const msgID = redriveMsgId(letter);
  const h = headers();
  h.set(REDRIVEN_FROM_HEADER, `${DEAD_LETTER_STREAM}:${letter.seq}`);
  const ack = await js.publish(letter.originalSubject, letter.data, {
    msgID,
    headers: h,
    expect: { streamName: ORDER_EVENTS_STREAM },
  });
  // Only once the stream holds it again: a re-drive that stops before this line is retried with the same id.
  await jsm.streams.deleteMessage(DEAD_LETTER_STREAM, letter.seq, false);
  return { letter, seq: ack.seq, msgID, duplicate: ack.duplicate };
}

/** Re-drives the selected dead letters one by one; stops at the first failure (what was done stays done). */
export async function redriveDeadLetters(
  access: JetStreamAccess,
  selection: DeadLetterSelection,
): Promise<Redriven[]> {
  const done: Redriven[] = [];
  for (const letter of await selected(access, selection)) done.push(await redriveDeadLetter(access, letter));
  return done;
}

/** Deletes the selected dead letters; returns what it deleted. */
export async function purgeDeadLetters(
  access: JetStreamAccess,
  selection: DeadLetterSelection,
): Promise<DeadLetter[]> {
  const deleted: DeadLetter[] = [];
  for (const letter of await selected(access, selection)) {
    await access.jsm.streams.deleteMessage(DEAD_LETTER_STREAM, letter.seq, false);
    deleted.push(letter);
  }
  return deleted;
}

/** The columns of `list`: sequence, time, consumer, original subject, deliveries, reason. */
export function letterColumns(letter: DeadLetter): string[] {
  return [
    String(letter.seq),
    letter.time.toISOString(),
    letter.consumer,
    letter.originalSubject,
    String(letter.deliveries ?? '?'),
    letter.reason,
  ];
}

/** One dead letter on one line (what `purge` prints). */
export function letterLine(letter: DeadLetter): string {
  return letterColumns(letter).join('  ');
}

/** What `show` prints: every header, then the body (indented JSON when it is JSON). */
export function letterDetails(letter: DeadLetter): string[] {
  const lines = [`dead letter ${letter.seq} (${letter.time.toISOString()}) of consumer ${letter.consumer}`];
  for (const [key, values] of Object.entries(letter.headers)) {
    for (const value of values) lines.push(`${key}: ${value}`);
  }
  const text = new TextDecoder().decode(letter.data);
  let body = text;
  try {
    body = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON (an unreadable event): shown as it is
  }
  return [...lines, '', body];
}
