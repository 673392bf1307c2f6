/** Order routes: place (idempotent, optionally waiting for the outcome), read, list and cancel orders. */
import { createRoute, z } from '@hono/zod-openapi';
import type { Database } from '../../db/client.js';
import { API_LIMITS } from '../limits.js';
import { callerOf } from '../middleware/auth.js';
import { limitBody, requireJsonContentType } from '../middleware/json-body.js';
import { BODY_PROBLEMS, problemResponses, V1_PROBLEMS } from '../problems/responses.js';
import { createRouter } from '../router.js';
import type { OrdersGateway } from './gateway.js';
import { orderLinks } from './links.js';
import { listOrdersPage } from './listing.js';
import {
  CreateOrderRequest,
  ListOrdersQuery,
  OrderAccepted,
  OrderIdParam,
  OrderPage,
  OrderView,
  PlaceOrderHeaders,
  PlaceOrderQuery,
} from './schemas.js';
import { orderView } from './view.js';

/** OpenAPI links from a response carrying `orderId` to the routes that take it (used by stateful fuzzing too). */
const ORDER_LINKS = {
  GetOrder: { operationId: 'getOrder', parameters: { orderId: '$response.body#/orderId' } },
  CancelOrder: { operationId: 'cancelOrder', parameters: { orderId: '$response.body#/orderId' } },
  GetOrderEvents: { operationId: 'getOrderEvents', parameters: { orderId: '$response.body#/orderId' } },
  GetOrderNotifications: {
    operationId: 'getOrderNotifications',
    parameters: { orderId: '$response.body#/orderId' },
  },
};

const LOCATION = {
  Location: { description: 'URL of the order.', required: true, schema: { type: 'string' as const } },
  'Idempotent-Replayed': {
    description: '`true` when the Idempotency-Key matched an order placed earlier (nothing new was started).',
    required: false,
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

const listOrders = createRoute({
  method: 'get',
  path: '/v1/orders',
  operationId: 'listOrders',
  tags: ['orders'],
  summary: 'List orders, newest first',
  description:
    'Reads the orders service table (see docs/API.md): an order shows up once its saga recorded it, within ' +
    'milliseconds of being placed. Follow `nextCursor` with the same filters for the next page.',
  request: { query: ListOrdersQuery },
  responses: {
    200: { description: 'One page of orders', content: { 'application/json': { schema: OrderPage } } },
    ...problemResponses(400, ...V1_PROBLEMS),
  },
});

const placeOrder = createRoute({
  method: 'post',
  path: '/v1/orders',
  operationId: 'placeOrder',
  tags: ['orders'],
  summary: 'Place an order (starts its saga)',
  description:
    'Prices the items from the catalog and starts the order saga. Send `Idempotency-Key` to make retries safe. ' +
    `With \`?wait=<seconds>\` (at most ${API_LIMITS.maxWaitSeconds}) the call waits for the outcome.`,
  middleware: [requireJsonContentType, limitBody(API_LIMITS.maxBodyBytes)],
  request: {
    headers: PlaceOrderHeaders,
    query: PlaceOrderQuery,
    body: { required: true, content: { 'application/json': { schema: CreateOrderRequest } } },
  },
  responses: {
    200: {
      description: 'The order ended within `wait` (COMPLETED, FAILED or CANCELLED)',
      headers: LOCATION,
      links: ORDER_LINKS,
      content: { 'application/json': { schema: OrderView } },
    },
    202: {
      description:
        'Accepted; the saga runs. Without `wait`: `OrderAccepted`. When `wait` ran out first: the current `Order`.',
      headers: LOCATION,
      links: ORDER_LINKS,
      content: { 'application/json': { schema: z.union([OrderAccepted, OrderView]) } },
    },
    ...problemResponses(...BODY_PROBLEMS, ...V1_PROBLEMS),
  },
});

const getOrder = createRoute({
  method: 'get',
  path: '/v1/orders/{orderId}',
  operationId: 'getOrder',
  tags: ['orders'],
  summary: 'Read an order: status, steps, payment, shipment',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'The order', content: { 'application/json': { schema: OrderView } } },
    ...problemResponses(400, 404, ...V1_PROBLEMS),
  },
});

const cancelOrder = createRoute({
  method: 'post',
  path: '/v1/orders/{orderId}/cancel',
  operationId: 'cancelOrder',
  tags: ['orders'],
  summary: 'Cancel an order before it ships',
  description:
    'Accepted while the order is PENDING, RESERVING or CHARGING: the saga stops at the next step boundary and ' +
    'compensates. 409 once shipping started or the order ended. Takes no body.',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'Already cancelled', content: { 'application/json': { schema: OrderView } } },
    202: {
      description: 'Cancel accepted; compensations run (`cancelRequested` is true)',
      content: { 'application/json': { schema: OrderView } },
    },
    ...problemResponses(400, 404, 409, ...V1_PROBLEMS),
  },
});

/** What the order routes need: the saga gateway, the orders service's records, and the cursors' key. */
export interface OrdersRouterDeps {
  gateway: OrdersGateway;
  db: Database;
  /** Keys the listing cursors' integrity tag. */
  cursorSecret: string;
}

/** The orders resource: `GET`/`POST /v1/orders`, `GET /v1/orders/{orderId}`, `POST /v1/orders/{orderId}/cancel`. */
export function ordersRouter({ gateway, db, cursorSecret }: OrdersRouterDeps) {
  const router = createRouter();
  router.openapi(listOrders, async (c) => {
    // Tenancy: a client lists its own orders; an admin every client's.
    const page = await listOrdersPage(db, callerOf(c), c.req.valid('query'), cursorSecret);
    const items = page.items.map((order) => ({ ...order, links: orderLinks(order.orderId) }));
    const { nextCursor } = page;
    return c.json({ items, nextCursor }, 200);
  });

  router.openapi(placeOrder, async (c) => {
    const body = c.req.valid('json');
    const { wait } = c.req.valid('query');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const caller = callerOf(c);
    const placed = await gateway.placeOrder(body, { caller, idempotencyKey });
    // From here on the order exists: the answer is 202 with its Location (or 200 once it ended), never a 5xx.
    c.header('location', orderLinks(placed.orderId).self);
    if (!placed.created) c.header('idempotent-replayed', 'true');
    const accepted = { orderId: placed.orderId, status: placed.status, links: orderLinks(placed.orderId) };
    if (!wait) return c.json(accepted, 202);
    const waited = await gateway.waitForOrder(placed, wait, caller, c.req.raw.signal);
    if (!waited) return c.json(accepted, 202);
    const view = orderView(waited.order, { stale: waited.stale });
    return waited.final ? c.json(view, 200) : c.json(view, 202);
  });

  router.openapi(getOrder, async (c) => {
    const { order, stale } = await gateway.readOrder(c.req.valid('param').orderId, callerOf(c));
    return c.json(orderView(order, { stale }), 200);
  });

  router.openapi(cancelOrder, async (c) => {
    const { accepted, order } = await gateway.cancelOrder(c.req.valid('param').orderId, callerOf(c));
    if (accepted) return c.json(orderView(order), 202);
    return c.json(orderView(order), 200);
  });
  return router;
}
