/** `GET /v1/orders`: newest first, filtered by status and customer, paged with an opaque cursor. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../../db/client.js';
import { listOrderRecords } from '../../db/queries/orders.js';
import { type AuthVariables, callerOf } from '../auth.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { orderLinks } from '../links.js';
import { ListOrdersQuery, OrderPage } from '../schemas/orders.js';
import { problemResponses, V1_PROBLEMS } from './responses.js';

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

/** Mounts the listing on an app; `cursorSecret` keys the cursors' integrity tag. */
export function registerOrderListRoute(
  app: OpenAPIHono<{ Variables: AuthVariables }>,
  db: Database,
  cursorSecret: string,
) {
  app.openapi(listOrders, async (c) => {
    const query = c.req.valid('query');
    // Tenancy: a client lists its own orders; an admin every client's.
    const caller = callerOf(c);
    const clientId = caller.role === 'admin' ? undefined : caller.clientId;
    // A cursor only continues the listing it came from (same filters, same client).
    const scope = new URLSearchParams({
      status: query.status ?? '',
      customerId: query.customerId ?? '',
      client: clientId ?? '*',
    });
    const after = query.cursor ? decodeCursor(query.cursor, scope.toString(), cursorSecret) : undefined;
    const page = await listOrderRecords(db, {
      clientId,
      status: query.status,
      customerId: query.customerId,
      limit: query.limit,
      after,
    });
    const nextCursor = page.last ? encodeCursor(page.last, scope.toString(), cursorSecret) : null;
    const items = page.items.map((order) => ({ ...order, links: orderLinks(order.orderId) }));
    return c.json({ items, nextCursor }, 200);
  });
}
