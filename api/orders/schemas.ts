/** Order request and response shapes, defined once in zod: they validate requests and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { STEP_NAMES } from '../../contracts/orders.js';
import { CustomerId, OrderStatusSchema, Sku, safeText, Timestamp } from '../common-schemas.js';
import { API_LIMITS } from '../limits.js';

const ORDER_ID_EXAMPLE = 'ord_5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b';

/** Unknown fields are rejected everywhere (strict objects), so a typo never passes silently. */
export const OrderItemRequest = z
  .strictObject({
    sku: Sku,
    quantity: z.number().int().min(1).max(API_LIMITS.maxQuantity).openapi({ example: 2 }),
  })
  .openapi('OrderItemRequest');

/** Where to ship; `XX` simulates an undeliverable country. */
export const ShippingAddressSchema = z
  .strictObject({
    name: safeText(200).openapi({ example: 'Ada Lovelace' }),
    line1: safeText(200).openapi({ example: '12 Analytical St' }),
    city: safeText(100).openapi({ example: 'London' }),
    postalCode: safeText(20).openapi({ example: 'N1 9GU' }),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, upper case')
      .openapi({
        example: 'GB',
        description: 'ISO 3166-1 alpha-2; `XX` simulates an undeliverable address.',
      }),
  })
  .openapi('ShippingAddress', {
    description: 'Text fields are trimmed and must not contain control characters.',
  });

/** Body of `POST /v1/orders`. */
export const CreateOrderRequest = z
  .strictObject({
    customerId: CustomerId,
    items: z
      .array(OrderItemRequest)
      .min(1)
      .max(API_LIMITS.maxItems)
      .openapi({
        description: `1 to ${API_LIMITS.maxItems} items; a SKU listed twice is reserved once, summed.`,
      }),
    payment: z
      .strictObject({
        token: safeText(200).openapi({
          example: 'tok_ok',
          description: '`tok_declined` is declined, `tok_flaky` fails twice transiently then succeeds.',
        }),
      })
      .openapi('PaymentRequest'),
    shippingAddress: ShippingAddressSchema,
  })
  .openapi('CreateOrderRequest', {
    description: 'Prices come from the catalog, never from the client. Unknown fields are rejected (422).',
    example: {
      customerId: 'cust-42',
      items: [{ sku: 'MUG-RED', quantity: 2 }],
      payment: { token: 'tok_ok' },
      shippingAddress: {
        name: 'Ada Lovelace',
        line1: '12 Analytical St',
        city: 'London',
        postalCode: 'N1 9GU',
        country: 'GB',
      },
    },
  });
/** A validated order request. */
export type CreateOrderRequest = z.infer<typeof CreateOrderRequest>;

/** Where to read, cancel and follow an order. */
export const OrderLinks = z
  .object({
    self: z.string().openapi({ example: `/v1/orders/${ORDER_ID_EXAMPLE}` }),
    cancel: z.string().openapi({ example: `/v1/orders/${ORDER_ID_EXAMPLE}/cancel` }),
    events: z.string().openapi({
      example: `/v1/orders/${ORDER_ID_EXAMPLE}/events`,
      description: 'Its events; live with `Accept: text/event-stream`.',
    }),
    notifications: z.string().openapi({ example: `/v1/orders/${ORDER_ID_EXAMPLE}/notifications` }),
  })
  .openapi('OrderLinks');

const OrderId = z.string().openapi({ example: ORDER_ID_EXAMPLE });

const OrderLine = z
  .object({
    sku: z.string().openapi({ example: 'MUG-RED' }),
    quantity: z.number().int().openapi({ example: 2 }),
    unitPriceCents: z.number().int().openapi({ example: 1299 }),
  })
  .openapi('OrderLine');

/** The full order: the saga's live state plus links. */
export const OrderView = z
  .object({
    orderId: OrderId,
    customerId: z.string().openapi({ example: 'cust-42' }),
    status: OrderStatusSchema,
    items: z.array(OrderLine),
    totalCents: z.number().int().openapi({ example: 2598 }),
    steps: z.array(
      z
        .object({
          name: z.enum(STEP_NAMES),
          status: z.enum([
            'RUNNING',
            'SUCCEEDED',
            'FAILED',
            'COMPENSATING',
            'COMPENSATED',
            'COMPENSATION_FAILED',
          ]),
          at: Timestamp,
          error: z.string().nullable(),
        })
        .openapi('OrderStep'),
    ),
    payment: z.object({ status: z.enum(['NONE', 'CHARGED', 'REFUNDED']), amountCents: z.number().int() }),
    shipment: z.object({
      status: z.enum(['NONE', 'CREATED', 'CANCELLED']),
      trackingId: z.string().nullable(),
    }),
    failureReason: z
      .string()
      .nullable()
      .openapi({ description: 'Why the order failed; null unless FAILED.' }),
    failureCode: z.string().nullable().openapi({
      description: '`OutOfStock`, `PaymentDeclined`, `AddressUndeliverable`, …; null unless FAILED.',
    }),
    cancelRequested: z.boolean().openapi({ description: 'A cancel was accepted and is being carried out.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    stale: z
      .literal(true)
      .optional()
      .openapi({
        description:
          'Present only when the order is still running but its saga could not be asked in time (no worker answered): ' +
          'the view is the last one recorded, as of `updatedAt`, and may be behind. Closed orders are always exact.',
      }),
    links: OrderLinks,
  })
  .openapi('Order');
/** An order as returned by the API. */
export type OrderView = z.infer<typeof OrderView>;

/** Answer of a POST that did not wait: where to follow the order. */
export const OrderAccepted = z
  .object({ orderId: OrderId, status: OrderStatusSchema, links: OrderLinks })
  .openapi('OrderAccepted', {
    description: 'The saga started (or already existed for this Idempotency-Key).',
  });

/** One row of the order listing. */
export const OrderSummary = z
  .object({
    orderId: OrderId,
    customerId: z.string().openapi({ example: 'cust-42' }),
    status: OrderStatusSchema,
    items: z.array(OrderLine),
    totalCents: z.number().int(),
    failureReason: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    links: OrderLinks,
  })
  .openapi('OrderSummary', {
    description: 'An order in a listing; `GET` its `links.self` for steps and payment.',
  });
/** A listed order. */
export type OrderSummary = z.infer<typeof OrderSummary>;

/** One page of the listing and the cursor of the next. */
export const OrderPage = z
  .object({
    items: z.array(OrderSummary),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('OrderPage');

/** Path parameter of the order routes. */
export const OrderIdParam = z.object({
  orderId: z
    .string()
    .min(1)
    .max(80)
    .openapi({
      param: { name: 'orderId', in: 'path', description: 'Id returned when the order was placed.' },
      example: ORDER_ID_EXAMPLE,
    }),
});

/** Request headers of `POST /v1/orders`. */
export const PlaceOrderHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(API_LIMITS.maxIdempotencyKeyLength)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .openapi({
      param: {
        in: 'header',
        description:
          'Makes the POST safe to retry: the same key with the same body returns the same order (no second saga), ' +
          'the same key with another body is 422. Scoped to the API key. Without it every POST is a new order.',
      },
      example: '3f6c2a1e-order-attempt-1',
    }),
});

/** Query of `POST /v1/orders`. */
export const PlaceOrderQuery = z.object({
  wait: z.coerce
    .number()
    .min(0)
    .max(API_LIMITS.maxWaitSeconds)
    .optional()
    .openapi({
      param: {
        name: 'wait',
        in: 'query',
        description:
          `Seconds (0–${API_LIMITS.maxWaitSeconds}) to wait for a terminal state: 200 with the final order if it ` +
          'ends in time, else 202 with its current state.',
      },
      example: 10,
    }),
});

/** Query of `GET /v1/orders`: filters, page size and cursor. */
export const ListOrdersQuery = z.object({
  status: OrderStatusSchema.optional().openapi({
    param: { name: 'status', in: 'query', description: 'Only orders in this status.' },
  }),
  customerId: CustomerId.optional().openapi({
    param: { name: 'customerId', in: 'query', description: 'Only orders of this customer.' },
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(API_LIMITS.maxPageSize)
    .default(API_LIMITS.defaultPageSize)
    .openapi({
      param: {
        name: 'limit',
        in: 'query',
        description: `Page size, 1–${API_LIMITS.maxPageSize} (default ${API_LIMITS.defaultPageSize}).`,
      },
      example: 20,
    }),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({
      param: {
        name: 'cursor',
        in: 'query',
        description: '`nextCursor` of the previous page, with the same filters. Opaque.',
      },
    }),
});
