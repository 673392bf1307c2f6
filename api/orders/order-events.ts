/**
 * Reads one order's events from the JetStream stream ORDER_EVENTS, through an ephemeral ordered consumer filtered to
 * `events.*.*.<orderId>`: a snapshot up to what the stream holds now (the JSON view) or a live feed (Server-Sent
 * Events). Every broker call made before an answer starts runs under a deadline, so an outage is a quick 503.
 */
import {
  type Consumer,
  type ConsumerMessages,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  anyEventEnvelopeSchema,
  type EventEnvelope,
  ORDER_EVENTS_STREAM,
  orderEventsFilter,
} from '../../contracts/events.js';
import type { Logger } from '../../core/logger.js';
import { ProblemError } from '../problems/problem.js';

/** What the API reads events through: the process's NATS client (`NatsClient` of events/nats.ts). */
export interface OrderEventsSource {
  jetstream(): Promise<JetStreamClient>;
}

/** One message of an order's events, as delivered. */
export interface StreamedEvent {
  /** Stream sequence: it increases along an order's events and is the SSE `id`. */
  sequence: number;
  /** Null for a message that is not a valid event envelope (it is skipped, and logged). */
  envelope: EventEnvelope | null;
  /** Messages of the order after this one that the stream already held when it was delivered (0: caught up). */
  pending: number;
}

/** A live feed of an order's events; `close()` stops it and deletes its consumer. */
export interface OrderEventFeed {
  /** Messages of the order the stream held (after the start point) when the feed opened. */
  pendingAtStart: number;
  events: AsyncIterable<StreamedEvent>;
  close(): void;
}

/** Most events one JSON answer lists; an order has a few dozen at most, so this only bounds a misbehaving stream. */
export const MAX_LISTED_EVENTS = 1_000;

/** Settings of the reader. */
export interface OrderEventReaderOptions {
  /** Deadline of connecting and of opening a consumer, and of a whole snapshot read. */
  timeoutMs: number;
  logger: Logger;
}

/** Reads order events; one ordered consumer per read or feed, deleted when done. */
export class OrderEventReader {
  constructor(
    private readonly source: OrderEventsSource,
    private readonly options: OrderEventReaderOptions,
  ) {}

  /** The order's events after stream sequence `after`, oldest first, as far as the stream holds them now. */
  async list(orderId: string, after = 0): Promise<StreamedEvent[]> {
    const consumer = await this.open(orderId, after);
    if (!consumer) return [];
    try {
      return await this.deadline(this.drain(orderId, consumer), 'read the events');
    } finally {
      remove(consumer);
    }
  }

  /**
   * A feed of the order's events after `after`: first those in the stream, then each one as it is published. Null
   * when the stream does not exist (no service has published anything yet).
   */
  async follow(orderId: string, after = 0): Promise<OrderEventFeed | null> {
    const consumer = await this.open(orderId, after);
    if (!consumer) return null;
    const pendingAtStart = (await consumer.info(true)).num_pending;
    let messages: ConsumerMessages;
    try {
      messages = await consumer.consume({ max_messages: 100 });
    } catch (err) {
      remove(consumer);
      throw err;
    }
    const decode = (msg: JsMsg) => this.decode(orderId, msg);
    async function* events(): AsyncGenerator<StreamedEvent> {
      for await (const msg of messages) yield decode(msg);
    }
    let closed = false;
    return {
      pendingAtStart,
      events: events(),
      close() {
        if (closed) return;
        closed = true;
        messages.stop();
        remove(consumer);
      },
    };
  }

  /** Reads until the consumer reports nothing more pending (or the listing bound). */
  private async drain(orderId: string, consumer: Consumer): Promise<StreamedEvent[]> {
    const pending = (await consumer.info(true)).num_pending;
    if (pending === 0) return [];
    const messages = await consumer.fetch({
      max_messages: Math.min(pending, MAX_LISTED_EVENTS),
      expires: Math.max(1_000, this.options.timeoutMs),
    });
    const events: StreamedEvent[] = [];
    let received = 0;
    try {
      for await (const msg of messages) {
        received += 1;
        events.push(this.decode(orderId, msg));
        if (msg.info.pending === 0 || received >= MAX_LISTED_EVENTS) break;
      }
    } finally {
      messages.stop();
    }
    return events;
  }

  /** An ordered consumer of the order's events from `after + 1`; null when the stream does not exist. */
  private async open(orderId: string, after: number): Promise<Consumer | null> {
    try {
      const js = await this.deadline(this.source.jetstream(), 'connect');
      const opening = js.consumers.get(ORDER_EVENTS_STREAM, {
        filter_subjects: orderEventsFilter(orderId),
        opt_start_seq: after + 1,
      });
      // One that opens after the deadline is nobody's: delete it rather than leave it to its inactivity timeout.
      return await this.deadline(opening, 'open a consumer').catch((err: unknown) => {
        opening.then(remove, () => {});
        throw err;
      });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
      if (err instanceof ProblemError) throw err;
      this.options.logger.warn({ err: { message: String(err) }, orderId }, 'reading order events failed');
      throw new ProblemError(
        'events-unavailable',
        'The event broker could not be read right now; retry later',
      );
    }
  }

  private decode(orderId: string, msg: JsMsg): StreamedEvent {
    const parsed = anyEventEnvelopeSchema.safeParse(safeJson(msg));
    if (!parsed.success) {
      this.options.logger.warn(
        { orderId, sequence: msg.seq, subject: msg.subject },
        'skipping a message of ORDER_EVENTS that is not a valid event envelope',
      );
    }
    return {
      sequence: msg.seq,
      envelope: parsed.success ? parsed.data : null,
      pending: msg.info.pending,
    };
  }

  /** `promise`, or a 503 `events-unavailable` once the deadline passes. */
  private deadline<T>(promise: Promise<T>, what: string): Promise<T> {
    const ms = this.options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ProblemError(
              'events-unavailable',
              `The event broker did not answer within ${ms} ms (${what}); retry later`,
            ),
          ),
        ms,
      );
    });
    return Promise.race([promise, timeUp]).finally(() => clearTimeout(timer));
  }
}

/** Deletes an ordered consumer now rather than after its inactivity timeout (best effort). */
function remove(consumer: Consumer): void {
  consumer.delete().catch(() => {});
}

function safeJson(msg: JsMsg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
