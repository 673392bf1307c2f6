/** Request and response shapes, defined once in zod: they validate requests and generate the OpenAPI document. */
import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES, STEP_NAMES } from '../contracts/orders.js';

/** Limits of an order request, documented in the OpenAPI document. */
export const ORDER_LIMITS = { maxItems: 50, maxQuantity: 1000, maxBodyBytes: 64 * 1024 } as const;

const sku = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash or underscore')
  .openapi({ example: 'MUG-RED' });

/** Unknown fields are rejected everywhere (strict objects), so a typo never passes silently. */
export const OrderItemRequest = z
  .strictObject({
    sku,
    quantity: z.number().int().min(1).max(ORDER_LIMITS.maxQuantity).openapi({ example: 2 }),
  })
  .openapi('OrderItemRequest');

export const ShippingAddressSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
    line1: z.string().trim().min(1).max(200).openapi({ example: '12 Analytical St' }),
    city: z.string().trim().min(1).max(100).openapi({ example: 'London' }),
    postalCode: z.string().trim().min(1).max(20).openapi({ example: 'N1 9GU' }),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, upper case')
      .openapi({
        example: 'GB',
        description: 'ISO 3166-1 alpha-2; `XX` simulates an undeliverable address.',
      }),
  })
  .openapi('ShippingAddress');

export const CreateOrderRequest = z
  .strictObject({
    customerId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ -')
      .openapi({ example: 'cust-42' }),
    items: z.array(OrderItemRequest).min(1).max(ORDER_LIMITS.maxItems),
    payment: z.strictObject({
      token: z.string().min(1).max(200).openapi({
        example: 'tok_ok',
        description: '`tok_declined` is declined, `tok_flaky` fails twice transiently then succeeds.',
      }),
    }),
    shippingAddress: ShippingAddressSchema,
  })
  .openapi('CreateOrderRequest');
export type CreateOrderRequest = z.infer<typeof CreateOrderRequest>;

export const OrderStatusSchema = z.enum(ORDER_STATUSES).openapi('OrderStatus');

export const OrderView = z
  .object({
    orderId: z.string().openapi({ example: 'ord_5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b' }),
    customerId: z.string(),
    status: OrderStatusSchema,
    items: z.array(
      z.object({ sku: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() }),
    ),
    totalCents: z.number().int(),
    steps: z.array(
      z.object({
        name: z.enum(STEP_NAMES),
        status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'COMPENSATING', 'COMPENSATED']),
        at: z.string(),
        error: z.string().nullable(),
      }),
    ),
    payment: z.object({ status: z.enum(['NONE', 'CHARGED', 'REFUNDED']), amountCents: z.number().int() }),
    shipment: z.object({
      status: z.enum(['NONE', 'CREATED', 'CANCELLED']),
      trackingId: z.string().nullable(),
    }),
    failureReason: z.string().nullable(),
    failureCode: z.string().nullable(),
    cancelRequested: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Order');

export const OrderAccepted = z
  .object({
    orderId: z.string(),
    status: OrderStatusSchema,
    links: z.object({ self: z.string(), cancel: z.string() }),
  })
  .openapi('OrderAccepted');

export const ProductView = z
  .object({
    sku: z.string(),
    name: z.string(),
    priceCents: z.number().int(),
    available: z.number().int(),
    reserved: z.number().int(),
  })
  .openapi('Product');

export const ProductUpdate = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Red mug' }),
    priceCents: z.number().int().min(0).max(100_000_000).openapi({ example: 1299 }),
    available: z.number().int().min(0).max(1_000_000_000).openapi({ example: 100 }),
  })
  .openapi('ProductUpdate');

/** RFC 9457 problem details; `errors` lists the failing fields of a validation problem. */
export const Problem = z
  .object({
    type: z.string().openapi({ example: 'https://order-saga.dev/problems/validation' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const OrderIdParam = z.object({
  orderId: z
    .string()
    .max(80)
    .openapi({ param: { name: 'orderId', in: 'path' }, example: 'ord_5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b' }),
});

export const SkuParam = z.object({
  sku: sku.openapi({ param: { name: 'sku', in: 'path' } }),
});
