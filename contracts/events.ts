/**
 * Contract of the domain events each service publishes (the choreography half): event names, the zod schema of
 * each event's `data`, the CloudEvents 1.0 structured-JSON envelope, and the NATS subjects and streams they live in.
 * Data carries ids, SKUs, amounts, statuses and failure codes only: never a payment token, an address or a name.
 */
import { z } from 'zod';
import { ORDER_STATUSES } from './orders.js';
import type { ServiceName } from './services.js';

/** JetStream stream holding every domain event (subjects `events.>`). */
export const ORDER_EVENTS_STREAM = 'ORDER_EVENTS';
/** JetStream stream holding the messages a consumer could never handle (subjects `dlq.>`). */
export const DEAD_LETTER_STREAM = 'ORDER_EVENTS_DLQ';
/** CloudEvents spec version of every envelope. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** Content type of every envelope's `data`. */
export const EVENT_DATA_CONTENT_TYPE = 'application/json';
/** Version suffix of every event type; a breaking change to a `data` schema gets a new one. */
export const EVENT_SCHEMA_VERSION = 'v1';

/** An order id usable as the last token of a NATS subject (no dots, wildcards or whitespace). */
const orderId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s.*>]+$/, 'an order id must not contain whitespace, ".", "*" or ">"');
const sku = z.string().min(1);
const cents = z.int().nonnegative();
const quantity = z.int().positive();
const orderStatus = z.enum(ORDER_STATUSES);
/** Machine-readable failure type (`OutOfStock`, `PaymentDeclined`, ...), as the saga passed it. */
const failureCode = z.string().min(1);
const stockItems = z.array(z.strictObject({ sku, quantity }));

// Strict objects: an unexpected field (a token, an address) is a programming error, caught when the event is built.
const stockChange = z.strictObject({ orderId, items: stockItems });

/** Schema of each event's `data`, per service; event names are unique across services. */
export const EVENT_DATA_SCHEMAS = {
  orders: {
    OrderPlaced: z.strictObject({
      orderId,
      customerId: z.string().min(1),
      clientId: z.string().min(1),
      items: z.array(z.strictObject({ sku, quantity, unitPriceCents: cents })),
      totalCents: cents,
    }),
    OrderStatusChanged: z.strictObject({
      orderId,
      status: orderStatus,
      previousStatus: orderStatus.nullable(),
    }),
    OrderCompleted: z.strictObject({ orderId, totalCents: cents }),
    OrderFailed: z.strictObject({ orderId, failureCode: failureCode.nullable(), reason: z.string() }),
    OrderCancelled: z.strictObject({ orderId }),
  },
  inventory: {
    StockReserved: stockChange,
    /** `items` is empty when nothing was held: the release left a tombstone so a late reserve takes nothing. */
    StockReleased: stockChange,
    StockCommitted: stockChange,
  },
  payments: {
    PaymentCharged: z.strictObject({ orderId, chargeId: z.string().min(1), amountCents: cents }),
    PaymentRefunded: z.strictObject({ orderId, refundId: z.string().min(1).nullable(), amountCents: cents }),
  },
  shipping: {
    ShipmentCreated: z.strictObject({ orderId, trackingId: z.string().min(1) }),
    /** `trackingId` is null when no booking had been recorded (a tombstone, or a cancel during booking). */
    ShipmentCancelled: z.strictObject({ orderId, trackingId: z.string().min(1).nullable() }),
  },
} as const satisfies Record<ServiceName, Record<string, z.ZodType>>;

/** A service that publishes events (all four saga services). */
export type EventService = keyof typeof EVENT_DATA_SCHEMAS;

/** The event names of a service (of every service when `S` is left out). */
export type EventName<S extends EventService = EventService> = S extends EventService
  ? keyof (typeof EVENT_DATA_SCHEMAS)[S] & string
  : never;

/** The `data` of one event. */
export type EventData<S extends EventService, N extends EventName<S>> = z.infer<
  (typeof EVENT_DATA_SCHEMAS)[S][N & keyof (typeof EVENT_DATA_SCHEMAS)[S]]
>;

/** Event names per service, in the order the design lists them. */
export const EVENT_NAMES = Object.fromEntries(
  Object.entries(EVENT_DATA_SCHEMAS).map(([service, events]) => [service, Object.keys(events)]),
) as unknown as { readonly [S in EventService]: readonly EventName<S>[] };

/** Every service that publishes events. */
export const EVENT_SERVICES = Object.keys(EVENT_DATA_SCHEMAS) as EventService[];

/** The order events after which an order never changes again. */
export const TERMINAL_ORDER_EVENTS = [
  'OrderCompleted',
  'OrderFailed',
  'OrderCancelled',
] as const satisfies readonly EventName<'orders'>[];
/** One terminal order event. */
export type TerminalOrderEvent = (typeof TERMINAL_ORDER_EVENTS)[number];

/** CloudEvents `source` of a service's events. */
export type EventSource<S extends EventService> = `/order-saga/${S}`;
/** CloudEvents `type` of one event. */
export type EventType<S extends EventService, N extends EventName<S>> = `order-saga.${S}.${N}.v1`;

/** The CloudEvents `source` of a service's events: `/order-saga/<service>`. */
export function eventSource<S extends EventService>(service: S): EventSource<S> {
  return `/order-saga/${service}`;
}

/** The CloudEvents `type` of an event: `order-saga.<service>.<Event>.v1`. */
export function eventType<S extends EventService, N extends EventName<S>>(
  service: S,
  name: N,
): EventType<S, N> {
  return `order-saga.${service}.${name}.${EVENT_SCHEMA_VERSION}`;
}

/** NATS subject of one order's event: `events.<service>.<Event>.<orderId>`; `events.*.*.<orderId>` reads an order. */
export function eventSubject<S extends EventService, N extends EventName<S>>(
  service: S,
  name: N,
  id: string,
): string {
  orderId.parse(id);
  return `events.${service}.${name}.${id}`;
}

/** Subject filter matching every event of one order, across services. */
export function orderEventsFilter(id: string): string {
  orderId.parse(id);
  return `events.*.*.${id}`;
}

function dataSchema<S extends EventService, N extends EventName<S>>(service: S, name: N) {
  return EVENT_DATA_SCHEMAS[service][
    name as N & keyof (typeof EVENT_DATA_SCHEMAS)[S]
  ] as unknown as z.ZodType<EventData<S, N>>;
}

function buildEnvelopeSchema<S extends EventService, N extends EventName<S>>(service: S, name: N) {
  return z
    .object({
      specversion: z.literal(CLOUDEVENTS_SPEC_VERSION).describe('CloudEvents spec version'),
      id: z
        .uuid()
        .describe('Unique per event, fixed when it was recorded: the dedupe key of broker and consumers'),
      source: z.literal(eventSource(service)).describe('The service that recorded the event'),
      type: z.literal(eventType(service, name)).describe('Event type, versioned'),
      subject: orderId.describe('The order id'),
      time: z.iso
        .datetime({ offset: true })
        .describe("When the event was recorded, in its effect's transaction (ISO 8601)"),
      datacontenttype: z.literal(EVENT_DATA_CONTENT_TYPE),
      data: dataSchema(service, name),
    })
    .meta({ title: name })
    .refine((event) => (event.data as { orderId: string }).orderId === event.subject, {
      message: 'subject must be the order id of data',
      path: ['subject'],
    });
}

/** The zod schema of one event's envelope. */
export type EventEnvelopeSchema<S extends EventService, N extends EventName<S>> = ReturnType<
  typeof buildEnvelopeSchema<S, N>
>;

/** Built once per type: appends validate every event against one. */
const envelopeSchemaCache = new Map<string, unknown>();

/** The envelope schema of one event: CloudEvents 1.0 structured JSON whose `subject` is the order id. */
export function eventEnvelopeSchema<S extends EventService, N extends EventName<S>>(
  service: S,
  name: N,
): EventEnvelopeSchema<S, N> {
  const type = eventType(service, name);
  let schema = envelopeSchemaCache.get(type) as EventEnvelopeSchema<S, N> | undefined;
  if (!schema) {
    schema = buildEnvelopeSchema(service, name);
    envelopeSchemaCache.set(type, schema);
  }
  return schema;
}

/** The envelope of one event (of any event when the parameters are left out). */
export type EventEnvelope<S extends EventService = EventService, N extends EventName<S> = EventName<S>> = {
  [Svc in S]: {
    [K in N & EventName<Svc>]: {
      specversion: typeof CLOUDEVENTS_SPEC_VERSION;
      id: string;
      source: EventSource<Svc>;
      type: EventType<Svc, K>;
      subject: string;
      time: string;
      datacontenttype: typeof EVENT_DATA_CONTENT_TYPE;
      data: EventData<Svc, K>;
    };
  }[N & EventName<Svc>];
}[S];

/** One event as `[service, name]`. */
export type EventKey = { [S in EventService]: readonly [S, EventName<S>] }[EventService];

/** Every event as `[service, name]`, in the order the design lists them. */
export const ALL_EVENTS = EVENT_SERVICES.flatMap((service) =>
  EVENT_NAMES[service].map((name) => [service, name]),
) as unknown as readonly EventKey[];

const allEnvelopeSchemas = ALL_EVENTS.map(([service, name]) => eventEnvelopeSchema(service, name));

/** Any event's envelope, told apart by `type`; what a consumer parses a message with. */
export const anyEventEnvelopeSchema = z.discriminatedUnion(
  'type',
  allEnvelopeSchemas as unknown as [
    (typeof allEnvelopeSchemas)[number],
    ...(typeof allEnvelopeSchemas)[number][],
  ],
) as unknown as z.ZodType<EventEnvelope>;

/** The event's name as carried in a CloudEvents `type` (`order-saga.<service>.<Event>.v1`), or null if not ours. */
export function parseEventType(type: string): { service: EventService; name: EventName } | null {
  const [prefix, service, name, version, ...rest] = type.split('.');
  if (prefix !== 'order-saga' || version !== EVENT_SCHEMA_VERSION || rest.length > 0) return null;
  const match = ALL_EVENTS.find(([s, n]) => s === service && n === name);
  return match ? { service: match[0], name: match[1] } : null;
}

/**
 * JSON Schemas (draft 2020-12) of every event's envelope, keyed by CloudEvents `type`, for the AsyncAPI document.
 * `io: 'input'` describes what a consumer receives on the wire.
 */
export function eventEnvelopeJsonSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    ALL_EVENTS.map(([service, name]) => [
      eventType(service, name),
      z.toJSONSchema(eventEnvelopeSchema(service, name), { io: 'input' }) as Record<string, unknown>,
    ]),
  );
}
