/** Reads what ORDER_EVENTS holds for a subject filter (one order's events), for tests that check the stream. */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { type EventEnvelope, ORDER_EVENTS_STREAM } from '../../contracts/events.js';

/** One stored message: where it sits, its dedupe id and its envelope. */
export interface StoredEvent {
  streamSeq: number;
  subject: string;
  msgId: string | undefined;
  contentType: string | undefined;
  envelope: EventEnvelope;
}

/** How many messages the stream holds on subjects matching `filter` (no consumer needed). */
export async function countStored(jsm: JetStreamManager, filter: string): Promise<number> {
  const info = await jsm.streams.info(ORDER_EVENTS_STREAM, { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}

/** Every message on subjects matching `filter`, oldest first, read with an ordered consumer. */
export async function readStored(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: string,
): Promise<StoredEvent[]> {
  const expected = await countStored(jsm, filter);
  if (expected === 0) return [];
  const consumer = await js.consumers.get(ORDER_EVENTS_STREAM, { filter_subjects: [filter] });
  const stored: StoredEvent[] = [];
  const messages = await consumer.fetch({ max_messages: expected, expires: 5_000 });
  for await (const message of messages) {
    stored.push({
      streamSeq: message.seq,
      subject: message.subject,
      msgId: message.headers?.get('Nats-Msg-Id') || undefined,
      contentType: message.headers?.get('Content-Type') || undefined,
      envelope: message.json<EventEnvelope>(),
    });
    if (message.info.pending === 0) break;
  }
  return stored;
}
