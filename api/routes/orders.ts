/** Order routes: place (idempotent, optionally waiting for the outcome), read and cancel orders. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type AuthVariables, callerOf } from '../auth.js';
import { limitBody, requireJsonContentType } from '../json-body.js';
import { API_LIMITS } from '../limits.js';
import { orderLinks } from '../links.js';
import { orderView } from '../order-view.js';
import type { OrdersGateway } from '../orders-gateway.js';
import {
  CreateOrderRequest,
  OrderAccepted,
  OrderIdParam,
  OrderView,
  PlaceOrderHeaders,
  PlaceOrderQuery,
} from '../schemas/orders.js';
import { BODY_PROBLEMS, problemResponses, V1_PROBLEMS } from './responses.js';

/** OpenAPI links from a response carrying `orderId` to the routes that take it (used by stateful fuzzing too). */
const ORDER_LINKS = {
  GetOrder: { operationId: 'getOrder', parameters: { orderId: '$response.body#/orderId' } },
  CancelOrder: { operationId: 'cancelOrder', parameters: { orderId: '$response.body#/orderId' } },
};

const LOCATION = {
  Location: { description: 'URL of the order.', required: true, schema: { type: 'string' as const } },
  'Idempotent-Replayed': {
    description: '`true` when the Idempotency-Key matched an order placed earlier (nothing new was started).',
    required: false,
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

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

/** Mounts the order routes on an app. */
export function registerOrderRoutes(app: OpenAPIHono<{ Variables: AuthVariables }>, gateway: OrdersGateway) {
  app.openapi(placeOrder, async (c) => {
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

  app.openapi(getOrder, async (c) => {
    const { order, stale } = await gateway.readOrder(c.req.valid('param').orderId, callerOf(c));
    return c.json(orderView(order, { stale }), 200);
  });

  app.openapi(cancelOrder, async (c) => {
    const { accepted, order } = await gateway.cancelOrder(c.req.valid('param').orderId, callerOf(c));
    if (accepted) return c.json(orderView(order), 202);
    return c.json(orderView(order), 200);
  });
}
