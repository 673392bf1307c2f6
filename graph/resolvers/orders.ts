/**
 * The orders subgraph: `Order` (the orders service's own view), `Query.order`/`orders`, `placeOrder` and
 * `cancelOrder` — through the same gateway, schemas and listing as REST, so both front doors keep the same rules.
 */
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import type { ZodType } from 'zod';
import type { Caller } from '../../api/middleware/auth.js';
import { mayRead, type OrdersGateway } from '../../api/orders/gateway.js';
import { listOrdersPage } from '../../api/orders/listing.js';
import {
  CreateOrderRequest,
  ListOrdersQuery,
  OrderIdParam,
  PlaceOrderHeaders,
} from '../../api/orders/schemas.js';
import { ProblemError } from '../../api/problems/problem.js';
import { isTerminal, type OrderState } from '../../contracts/orders.js';
import type { Database } from '../../db/client.js';
import { type OrderRecord, type OrderRecordSummary, readOrderRecords } from '../../db/queries/orders.js';
import type { ClosedOrderCache } from '../closed-orders.js';
import { validationError } from '../errors.js';
import { Cents } from '../scalars.js';
import type { SubgraphContext, SubgraphDefinition } from '../server.js';

export interface OrdersSubgraphDeps {
  gateway: OrdersGateway;
  db: Database;
  cursorSecret: string;
  closedOrders: ClosedOrderCache;
}

interface OrdersContext extends SubgraphContext {
  /** Recorded orders of this request, loaded in one query (the steps of a listing's nodes). */
  records: DataLoader<string, OrderRecord | undefined>;
}

/** An `Order` as the resolvers pass it on: the view, and `steps` only when already known. */
interface OrderNode extends Omit<OrderState, 'steps' | 'orderId'> {
  id: string;
  stale: boolean;
  steps?: OrderState['steps'];
}

function nodeOf(order: OrderState, stale: boolean): OrderNode {
  const { orderId, ...rest } = order;
  return { ...rest, id: orderId, stale };
}

function nodeOfSummary(summary: OrderRecordSummary): Omit<OrderNode, 'payment' | 'shipment' | 'steps'> {
  const { orderId, ...rest } = summary;
  // A listing is as recorded: a live order's node is its last recorded state.
  return {
    ...rest,
    id: orderId,
    stale: !isTerminal(summary.status),
    failureCode: null,
    cancelRequested: false,
  };
}

function callerOf(context: SubgraphContext): Caller {
  if (context.caller) return context.caller;
  throw new GraphQLError('The gateway did not say who is calling', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

function parsed<T>(schema: ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

const OrderIdArgument = OrderIdParam.shape.orderId;
const IdempotencyKeyArgument = PlaceOrderHeaders.shape['idempotency-key'];

export function ordersSubgraph(deps: OrdersSubgraphDeps): SubgraphDefinition<OrdersContext> {
  const { gateway, db, closedOrders } = deps;

  /** Reads one order for the caller; null when unknown or another client's (the REST 404). */
  async function readOrder(orderId: string, caller: Caller): Promise<OrderNode | null> {
    const cached = closedOrders.get(orderId);
    if (cached) return mayRead(caller, cached.clientId) ? nodeOf(cached, false) : null;
    try {
      const { order, stale } = await gateway.readOrder(orderId, caller);
      closedOrders.remember(order, stale);
      return nodeOf(order, stale);
    } catch (err) {
      if (err instanceof ProblemError && err.slug === 'not-found') return null;
      throw err;
    }
  }

  return {
    name: 'orders',
    context: () => ({
      records: new DataLoader(async (ids: readonly string[]) => {
        const found = await readOrderRecords(db, ids);
        return ids.map((id) => found.get(id));
      }),
    }),
    resolvers: {
      Cents,
      Query: {
        order: (_: unknown, args: { id: string }, context: OrdersContext) =>
          readOrder(parsed(OrderIdArgument, args.id, 'id'), callerOf(context)),
        orders: async (
          _: unknown,
          args: {
            status?: string | null;
            customerId?: string | null;
            first?: number | null;
            after?: string | null;
          },
          context: OrdersContext,
        ) => {
          const query = parsed(
            ListOrdersQuery,
            {
              status: args.status ?? undefined,
              customerId: args.customerId ?? undefined,
              limit: args.first ?? undefined,
              cursor: args.after ?? undefined,
            },
            'arguments',
          );
          const page = await listOrdersPage(db, callerOf(context), query, deps.cursorSecret);
          return { nodes: page.items.map(nodeOfSummary), nextCursor: page.nextCursor };
        },
      },
      Mutation: {
        placeOrder: async (
          _: unknown,
          args: { input: unknown; idempotencyKey?: string | null },
          context: OrdersContext,
        ) => {
          const caller = callerOf(context);
          const request = parsed(CreateOrderRequest, args.input, 'input');
          const idempotencyKey = parsed(
            IdempotencyKeyArgument,
            args.idempotencyKey ?? undefined,
            'idempotencyKey',
          );
          const placed = await gateway.placeOrder(request, { caller, idempotencyKey });
          if (placed.accepted) return { order: nodeOf(placed.accepted, false), created: placed.created };
          const { order, stale } = await gateway.readOrder(placed.orderId, caller);
          return { order: nodeOf(order, stale), created: placed.created };
        },
        cancelOrder: async (_: unknown, args: { id: string }, context: OrdersContext) => {
          const { accepted, order } = await gateway.cancelOrder(
            parsed(OrderIdArgument, args.id, 'id'),
            callerOf(context),
          );
          return { accepted, order: nodeOf(order, false) };
        },
      },
      Order: {
        __resolveReference: (reference: { id: string }, context: OrdersContext) =>
          readOrder(reference.id, callerOf(context)),
        steps: async (order: OrderNode, _: unknown, context: OrdersContext) =>
          order.steps ?? (await context.records.load(order.id))?.view.steps ?? [],
      },
      OrderItem: {
        product: (item: { sku: string }) => ({ __typename: 'Product', sku: item.sku }),
      },
    },
  };
}
