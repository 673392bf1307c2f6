/** Order routes: place, read and cancel orders. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { OrderState } from '../../contracts/orders.js';
import type { AuthVariables } from '../auth.js';
import type { OrdersGateway } from '../orders-gateway.js';
import { CreateOrderRequest, OrderAccepted, OrderIdParam, OrderView, Problem } from '../schemas.js';
import { problemResponses } from './responses.js';

/** Longest `?wait=` the API honours, in seconds. */
export const MAX_WAIT_SECONDS = 30;

const placeOrder = createRoute({
  method: 'post',
  path: '/v1/orders',
  summary: 'Place an order (starts its saga)',
  request: {
    headers: z.object({
      'idempotency-key': z
        .string()
        .min(1)
        .max(255)
        .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
        .optional()
        .openapi({
          description: 'Same key + same body returns the same order; same key + other body is 422.',
        }),
    }),
    query: z.object({
      wait: z.coerce
        .number()
        .min(0)
        .max(MAX_WAIT_SECONDS)
        .optional()
        .openapi({ description: `Seconds (≤ ${MAX_WAIT_SECONDS}) to wait for a terminal state.` }),
    }),
    body: { required: true, content: { 'application/json': { schema: CreateOrderRequest } } },
  },
  responses: {
    200: {
      description: 'The order ended within `wait`',
      content: { 'application/json': { schema: OrderView } },
    },
    202: {
      description: 'Accepted; the saga runs',
      content: { 'application/json': { schema: OrderAccepted } },
    },
    ...problemResponses(400, 401, 413, 415, 422, 503),
  },
});

const getOrder = createRoute({
  method: 'get',
  path: '/v1/orders/{orderId}',
  summary: 'Read an order',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'The order', content: { 'application/json': { schema: OrderView } } },
    ...problemResponses(401, 404, 503),
  },
});

const cancelOrder = createRoute({
  method: 'post',
  path: '/v1/orders/{orderId}/cancel',
  summary: 'Cancel an order before it ships',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'Already cancelled', content: { 'application/json': { schema: OrderView } } },
    202: {
      description: 'Cancel accepted; compensations run',
      content: { 'application/json': { schema: OrderView } },
    },
    ...problemResponses(401, 404, 409, 503),
  },
});

const links = (orderId: string) => ({
  self: `/v1/orders/${orderId}`,
  cancel: `/v1/orders/${orderId}/cancel`,
});
const view = (order: OrderState) => OrderView.parse(order);

/** Mounts the order routes on an app. */
export function registerOrderRoutes(app: OpenAPIHono<{ Variables: AuthVariables }>, gateway: OrdersGateway) {
  app.openapi(placeOrder, async (c) => {
    const body = c.req.valid('json');
    const { wait } = c.req.valid('query');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const placed = await gateway.placeOrder(body, {
      clientId: c.get('clientId'),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    c.header('location', `/v1/orders/${placed.orderId}`);
    const final = wait ? await gateway.waitForOrder(placed.orderId, wait) : null;
    if (final) return c.json(view(final), 200);
    return c.json({ orderId: placed.orderId, status: placed.status, links: links(placed.orderId) }, 202);
  });

  app.openapi(getOrder, async (c) => {
    const order = await gateway.getOrder(c.req.valid('param').orderId);
    return c.json(view(order), 200);
  });

  app.openapi(cancelOrder, async (c) => {
    const { order } = await gateway.cancelOrder(c.req.valid('param').orderId);
    return c.json(view(order), order.status === 'CANCELLED' ? 200 : 202);
  });
}

export { Problem };
