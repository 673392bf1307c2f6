/**
 * Following an order: its events (`GET /v1/orders/{orderId}/events`, JSON or live Server-Sent Events) and the
 * notifications its customer got (`GET /v1/orders/{orderId}/notifications`). Tenancy is the order read's.
 */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { type EventEnvelope, parseEventType, TERMINAL_ORDER_EVENTS } from '../../contracts/events.js';
import { isTerminal } from '../../contracts/orders.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/client.js';
import { listOrderNotifications } from '../../db/queries/notifications.js';
import { callerOf } from '../middleware/auth.js';
import type { StreamSlots } from '../middleware/load-shedding.js';
import { ProblemError } from '../problems/problem.js';
import { problemResponses, V1_PROBLEMS } from '../problems/responses.js';
import { type ApiEnv, createRouter } from '../router.js';
import {
  OrderEventList,
  OrderEventStream,
  OrderEventsHeaders,
  OrderNotificationList,
} from './event-schemas.js';
import type { OrdersGateway } from './gateway.js';
import type { OrderEventFeed, OrderEventReader } from './order-events.js';
import { OrderIdParam } from './schemas.js';

/** Interval of the comment lines that keep an idle event stream open through proxies. */
export const HEARTBEAT_MS = 15_000;
/**
 * How long the stream of an order already recorded as ended waits, once caught up, for a terminal event it has not
 * seen (the relay may publish it a moment after the status write that ended the order).
 */
export const TERMINAL_GRACE_MS = 5_000;

const getOrderEvents = createRoute({
  method: 'get',
  path: '/v1/orders/{orderId}/events',
  operationId: 'getOrderEvents',
  tags: ['orders'],
  summary: 'Follow an order: its events, oldest first (JSON, or live with Accept: text/event-stream)',
  description:
    'The domain events every service recorded for the order (CloudEvents, from the stream ORDER_EVENTS), oldest ' +
    'first. With `Accept: text/event-stream` the answer is a live Server-Sent Events stream: the events so far, ' +
    'then each new one as it is published, ending after the terminal event (OrderCompleted, OrderFailed or ' +
    'OrderCancelled); `Last-Event-ID` resumes after that sequence. Any other `Accept` gets the JSON list. ' +
    '`503 events-unavailable` when the API has no event broker (`NATS_URL`) or it does not answer in time; ' +
    '`503 overloaded` past `API_MAX_EVENT_STREAMS` open streams.',
  request: { params: OrderIdParam, headers: OrderEventsHeaders },
  responses: {
    200: {
      description: 'The events (JSON), or the live stream (`text/event-stream`)',
      content: {
        'application/json': { schema: OrderEventList },
        'text/event-stream': { schema: OrderEventStream },
      },
    },
    ...problemResponses(400, 404, ...V1_PROBLEMS),
  },
});

const getOrderNotifications = createRoute({
  method: 'get',
  path: '/v1/orders/{orderId}/notifications',
  operationId: 'getOrderNotifications',
  tags: ['orders'],
  summary: "The notifications sent to an order's customer, oldest first",
  description:
    'Recorded by the notifications service, which reacts to events alone: one per kind (OrderCompleted, ' +
    'OrderFailed, OrderCancelled, PaymentRefunded), shortly after the event was published.',
  request: { params: OrderIdParam },
  responses: {
    200: {
      description: 'The notifications',
      content: { 'application/json': { schema: OrderNotificationList } },
    },
    ...problemResponses(400, 404, ...V1_PROBLEMS),
  },
});

/** What the routes need: tenancy (the gateway), the notifications table, the event reader and the stream cap. */
export interface OrderEventsRouterDeps {
  gateway: OrdersGateway;
  db: Database;
  /** Undefined when the API has no event broker (NATS_URL unset): the events route answers 503. */
  events: OrderEventReader | undefined;
  streams: StreamSlots;
  logger: Logger;
  /** Aborted when the server shuts down: open event streams end, so the server can close. */
  shutdown?: AbortSignal;
}

/** The routes that follow one order: its events and its notifications. */
export function orderEventsRouter(deps: OrderEventsRouterDeps) {
  const { gateway, db, streams, logger } = deps;
  const router = createRouter();

  router.openapi(getOrderEvents, async (c) => {
    const { orderId } = c.req.valid('param');
    const lastEventId = c.req.valid('header')['last-event-id'];
    const after = lastEventId === undefined ? 0 : Number(lastEventId);
    if (!deps.events) {
      throw new ProblemError(
        'events-unavailable',
        'This API has no event broker configured (NATS_URL is unset), so order events cannot be read',
      );
    }
    const { status } = await gateway.readableOrder(orderId, callerOf(c));
    if (!wantsEventStream(c.req.header('accept'))) {
      const events = await deps.events.list(orderId, after);
      const items = events.flatMap(({ sequence, envelope }) =>
        envelope ? [{ sequence, ...eventItem(envelope) }] : [],
      );
      return c.json({ orderId, items }, 200);
    }
    const release = streams.acquire();
    let feed: OrderEventFeed | null;
    try {
      feed = await deps.events.follow(orderId, after);
    } catch (err) {
      release();
      throw err;
    }
    if (!feed) {
      release();
      throw new ProblemError(
        'events-unavailable',
        'No service has published events yet (the stream ORDER_EVENTS does not exist); retry later',
      );
    }
    return streamOrderEvents(c, {
      orderId,
      feed,
      endedAlready: isTerminal(status),
      release,
      logger,
      ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
    });
  });

  router.openapi(getOrderNotifications, async (c) => {
    const { orderId } = c.req.valid('param');
    await gateway.readableOrder(orderId, callerOf(c));
    const items = await listOrderNotifications(db, orderId);
    return c.json({ orderId, items }, 200);
  });
  return router;
}

/** Whether the client asked for Server-Sent Events: `text/event-stream` listed in Accept (and not with q=0). */
export function wantsEventStream(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    return type === 'text/event-stream' && !params.some((param) => /^q=0(\.0*)?$/.test(param));
  });
}

/** One event as the JSON list shows it. */
function eventItem(envelope: EventEnvelope) {
  const { id, type, source, time, data } = envelope;
  return { id, type, source, time, data: data as Record<string, unknown> };
}

function isTerminalEvent(envelope: EventEnvelope): boolean {
  const parsed = parseEventType(envelope.type);
  return parsed?.service === 'orders' && (TERMINAL_ORDER_EVENTS as readonly string[]).includes(parsed.name);
}

interface StreamOptions {
  orderId: string;
  feed: OrderEventFeed;
  /** The order is recorded as ended: once caught up, the stream waits at most TERMINAL_GRACE_MS more. */
  endedAlready: boolean;
  release: () => void;
  logger: Logger;
  shutdown?: AbortSignal;
}

/**
 * Writes the feed as Server-Sent Events until the order's terminal event, the client going away or the server
 * shutting down; then closes the feed (its consumer is deleted) and frees the stream's slot.
 */
function streamOrderEvents(c: Context<ApiEnv>, options: StreamOptions): Response {
  const { orderId, feed, logger, shutdown } = options;
  return streamSSE(c, async (stream) => {
    const finish = () => feed.close();
    stream.onAbort(finish);
    c.req.raw.signal.addEventListener('abort', finish, { once: true });
    shutdown?.addEventListener('abort', finish, { once: true });
    if (shutdown?.aborted) finish();
    const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), HEARTBEAT_MS);
    let grace: NodeJS.Timeout | undefined;
    const caughtUp = () => {
      if (options.endedAlready && !grace) grace = setTimeout(finish, TERMINAL_GRACE_MS);
    };
    try {
      // A first line at once, so the client (and any proxy) sees the stream open before the first event.
      await stream.write(`: order ${orderId}\n\n`);
      if (feed.pendingAtStart === 0) caughtUp();
      for await (const { sequence, envelope, pending } of feed.events) {
        if (envelope) {
          await stream.writeSSE({
            id: String(sequence),
            event: envelope.type,
            data: JSON.stringify(envelope),
          });
          if (isTerminalEvent(envelope)) break;
        }
        if (pending === 0) caughtUp();
      }
    } catch (err) {
      // The broker failed mid-stream: end it; the client resumes with Last-Event-ID.
      logger.warn({ err: { message: String(err) }, orderId }, 'order event stream failed');
    } finally {
      clearInterval(heartbeat);
      clearTimeout(grace);
      c.req.raw.signal.removeEventListener('abort', finish);
      shutdown?.removeEventListener('abort', finish);
      finish();
      options.release();
    }
  });
}
