/**
 * The AsyncAPI 3 document of the event stream, generated from the contracts (contracts/events.ts): one channel per
 * event (`events.<service>.<Event>.{orderId}`), the publishing service's `send` operation, the notifications
 * consumer's `receive` operations, and each message's CloudEvents envelope as JSON Schema. Served at
 * `/asyncapi.json`; `docs/EVENTS.md` is rendered from it (`npm run events:docs`).
 */
import {
  ALL_EVENTS,
  DEAD_LETTER_STREAM,
  type EventName,
  type EventService,
  eventEnvelopeJsonSchemas,
  eventType,
  ORDER_EVENTS_STREAM,
} from '../contracts/events.js';

/** The events the notifications service subscribes to (consumers/notifications). */
export const NOTIFICATIONS_SUBSCRIBES_TO: readonly string[] = [
  'OrderPlaced',
  'OrderCompleted',
  'OrderFailed',
  'OrderCancelled',
  'PaymentRefunded',
];

const channelKey = (service: EventService, name: string) => `${service}.${name}`;

/** The document; `version` is the package's (the contract's version is in each event type: `.v1`). */
export function asyncApiDocument(version: string): Record<string, unknown> {
  const schemas = eventEnvelopeJsonSchemas();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const [service, name] of ALL_EVENTS as ReadonlyArray<readonly [EventService, EventName]>) {
    const type = eventType(service, name);
    const key = channelKey(service, name);
    const { $schema: _dialect, ...payload } = schemas[type] ?? {};
    messages[name] = {
      name,
      title: name,
      summary: `${name}, published by the ${service} service when its effect commits.`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': {
            type: 'string',
            description: 'The event id: JetStream drops a duplicate publish of it.',
          },
        },
      },
      payload: { schemaFormat: 'application/schema+json;version=draft-2020-12', schema: payload },
      correlationId: { location: '$message.payload#/subject', description: 'The order id.' },
    };
    channels[key] = {
      address: `events.${service}.${name}.{orderId}`,
      title: `${service} ${name}`,
      description: `Stream ${ORDER_EVENTS_STREAM}. CloudEvents type \`${type}\`.`,
      parameters: {
        orderId: { description: "The order the event is about (also the envelope's `subject`)." },
      },
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    };
    operations[`${service}.publish${name}`] = {
      action: 'send',
      summary: `The ${service} service's outbox relay publishes ${name}.`,
      channel: { $ref: `#/channels/${key}` },
      messages: [{ $ref: `#/channels/${key}/messages/${name}` }],
    };
    if (NOTIFICATIONS_SUBSCRIBES_TO.includes(name)) {
      operations[`notifications.receive${name}`] = {
        action: 'receive',
        summary: `The notifications service consumes ${name} (durable consumer \`notifications\`).`,
        channel: { $ref: `#/channels/${key}` },
        messages: [{ $ref: `#/channels/${key}/messages/${name}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Order saga events',
      version,
      description:
        `Domain events of the order saga's services, as CloudEvents 1.0 (structured JSON) on NATS JetStream. ` +
        `Every event is written to its service's outbox in the same transaction as its effect and relayed to the ` +
        `stream ${ORDER_EVENTS_STREAM} (subjects \`events.<service>.<Event>.<orderId>\`, \`Nats-Msg-Id\` = event id). ` +
        `Consumers dedupe by id; messages no consumer can handle go to ${DEAD_LETTER_STREAM}. Event data holds ids, ` +
        'SKUs, amounts and statuses only: no payment token, address or name.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:4222',
        protocol: 'nats',
        description: 'The embedded server of `npm start` (NATS_URL points elsewhere).',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}
