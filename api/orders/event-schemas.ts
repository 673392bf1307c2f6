/** Shapes of an order's event timeline (JSON and Server-Sent Events) and of its notifications, in zod. */
import { z } from '@hono/zod-openapi';
import { NOTIFICATION_KINDS } from '../../db/schema/notifications.js';
import { Timestamp } from '../common-schemas.js';

const ORDER_ID_EXAMPLE = 'ord_5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b';
const EVENT_ID_EXAMPLE = '0b6f1f0e-3c1a-4d8e-9a57-2f4c6d8e0a1b';

/** A stream sequence as sent back in `Last-Event-ID`: digits only, at most 15 (exact in JSON numbers). */
export const STREAM_SEQUENCE_PATTERN = /^[0-9]{1,15}$/;

/** One event of the order: its place in the stream and its CloudEvents attributes and data. */
export const OrderEvent = z
  .object({
    sequence: z
      .number()
      .int()
      .positive()
      .openapi({
        example: 42,
        description:
          "Sequence in the stream ORDER_EVENTS: increases along the order's events (not contiguous: the stream holds " +
          'every order). The Server-Sent Events `id`, and what `Last-Event-ID` resumes after.',
      }),
    id: z.uuid().openapi({
      example: EVENT_ID_EXAMPLE,
      description: 'CloudEvents `id`: unique per event and stable across retries (dedupe by it).',
    }),
    type: z.string().openapi({
      example: 'order-saga.orders.OrderPlaced.v1',
      description: 'CloudEvents `type`: `order-saga.<service>.<Event>.v1`.',
    }),
    source: z
      .string()
      .openapi({ example: '/order-saga/orders', description: 'The service that recorded it.' }),
    time: z.iso.datetime({ offset: true }).openapi({
      example: '2026-01-31T12:00:00.000Z',
      description: "When it was recorded, in its effect's transaction.",
    }),
    data: z.record(z.string(), z.unknown()).openapi({
      description: "The event's data; its schema per `type` is in `/asyncapi.json`.",
      example: { orderId: ORDER_ID_EXAMPLE, totalCents: 2598 },
    }),
  })
  .openapi('OrderEvent');

/** The order's events, oldest first. */
export const OrderEventList = z
  .object({
    orderId: z.string().openapi({ example: ORDER_ID_EXAMPLE }),
    items: z.array(OrderEvent),
  })
  .openapi('OrderEvents', {
    description: 'The events the stream holds for the order, oldest first (after `Last-Event-ID` if sent).',
  });

/** What the `text/event-stream` answer looks like, for the document. */
export const OrderEventStream = z.string().openapi({
  description:
    'Server-Sent Events: per event `id: <sequence>`, `event: <CloudEvents type>` and `data: <the CloudEvents ' +
    'envelope as JSON>`; a `: heartbeat` comment every 15 s; the stream ends after the terminal event ' +
    '(OrderCompleted, OrderFailed, OrderCancelled).',
  example:
    `: order ${ORDER_ID_EXAMPLE}\n\n` +
    'id: 42\nevent: order-saga.orders.OrderCompleted.v1\n' +
    `data: {"specversion":"1.0","id":"${EVENT_ID_EXAMPLE}","source":"/order-saga/orders",` +
    `"type":"order-saga.orders.OrderCompleted.v1","subject":"${ORDER_ID_EXAMPLE}",` +
    '"time":"2026-01-31T12:00:00.000Z","datacontenttype":"application/json",' +
    `"data":{"orderId":"${ORDER_ID_EXAMPLE}","totalCents":2598}}\n\n`,
});

/** Request headers of `GET /v1/orders/{orderId}/events`. */
export const OrderEventsHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(STREAM_SEQUENCE_PATTERN, 'a stream sequence: digits only')
    .optional()
    .openapi({
      param: {
        in: 'header',
        description:
          'Resume after this stream sequence (the `id` of the last event received): only later events are sent. ' +
          'Browsers send it themselves when an `EventSource` reconnects.',
      },
      example: '42',
    }),
});

/** One notification the notifications service sent the order's customer. */
export const OrderNotification = z
  .object({
    kind: z.enum(NOTIFICATION_KINDS).openapi({ description: 'The event that caused it.' }),
    channel: z.string().openapi({ example: 'email' }),
    message: z.string().openapi({ example: 'Your order ord_5f0c… is complete: 25.98 in total.' }),
    eventId: z.uuid().openapi({ example: EVENT_ID_EXAMPLE, description: 'CloudEvents `id` of that event.' }),
    sentAt: Timestamp,
  })
  .openapi('OrderNotification');

/** The order's notifications, oldest first. */
export const OrderNotificationList = z
  .object({
    orderId: z.string().openapi({ example: ORDER_ID_EXAMPLE }),
    items: z.array(OrderNotification),
  })
  .openapi('OrderNotifications', {
    description:
      'What the customer was told (at most one per kind), oldest first; empty until the notifications service ' +
      'has handled an event of the order that it notifies about.',
  });
