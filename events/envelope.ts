/** Builds and reads the CloudEvents 1.0 envelopes of domain events (structured JSON mode). */
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { z } from 'zod';
import {
  anyEventEnvelopeSchema,
  EVENT_DATA_CONTENT_TYPE,
  type EventData,
  type EventEnvelope,
  type EventName,
  type EventService,
  eventEnvelopeSchema,
  eventSource,
  eventType,
} from '../contracts/events.js';

/** What an envelope may be given instead of the defaults; tests pin them, production never needs to. */
export interface EnvelopeOptions {
  /** Defaults to a new random (v4) UUID: generate it once, when the event is recorded, and never again. */
  id?: string;
  /** Defaults to now. */
  time?: Date;
}

/**
 * The envelope of one event as a plain JSON object. The cloudevents SDK checks it against the CloudEvents spec, the
 * contract's zod schema against this event's `data` (strict: an extra field such as a token is rejected), so a
 * wrong event is a programming error thrown here, inside the effect's transaction, and never reaches the outbox.
 */
export function buildEventEnvelope<S extends EventService, N extends EventName<S>>(
  service: S,
  name: N,
  orderId: string,
  data: EventData<S, N>,
  options: EnvelopeOptions = {},
): EventEnvelope<S, N> {
  const type = eventType(service, name);
  let json: Record<string, unknown>;
  try {
    const event = new CloudEvent<EventData<S, N>>(
      {
        specversion: '1.0',
        id: options.id ?? randomUUID(),
        source: eventSource(service),
        type,
        subject: orderId,
        time: (options.time ?? new Date()).toISOString(),
        datacontenttype: EVENT_DATA_CONTENT_TYPE,
        data,
      },
      false,
    );
    event.validate();
    json = event.toJSON();
  } catch (error) {
    throw new Error(`event ${type} of order ${orderId} is not a valid CloudEvent: ${describe(error)}`);
  }
  const parsed = eventEnvelopeSchema(service, name).safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `event ${type} of order ${orderId} breaks its contract: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data as EventEnvelope<S, N>;
}

/** Parses a received envelope (any of our events); throws a ZodError naming what is wrong. */
export function parseEventEnvelope(value: unknown): EventEnvelope {
  return anyEventEnvelopeSchema.parse(value);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The SDK's ValidationError lists the schema violations in `errors`.
  const details = (error as { errors?: unknown[] }).errors;
  return details?.length ? `${error.message} ${JSON.stringify(details)}` : error.message;
}
