/** Building blocks shared by the request and response schemas of the resources (orders, products, problems). */
import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES } from '../contracts/orders.js';

/** Control characters and lone surrogates: they break storage (Postgres rejects NUL) and logs, so text refuses them. */
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}]/u;

/** Free text: trimmed, bounded, printable (no control characters, well-formed Unicode). */
export function safeText(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !UNSAFE_TEXT.test(value), 'must not contain control characters');
}

/** A catalog SKU. */
export const Sku = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash or underscore')
  .openapi({ example: 'MUG-RED', description: 'Catalog SKU (see `GET /v1/products`).' });

/** A customer id as the client knows it. */
export const CustomerId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ -')
  .openapi({ example: 'cust-42' });

/** An ISO 8601 UTC timestamp. */
export const Timestamp = z.iso.datetime().openapi({ example: '2026-01-31T12:00:00.000Z' });

/** An order's status, in saga order. */
export const OrderStatusSchema = z.enum(ORDER_STATUSES).openapi('OrderStatus', {
  description:
    'PENDING → RESERVING → CHARGING → SHIPPING → COMPLETED, or → COMPENSATING → FAILED | CANCELLED. ' +
    'COMPLETED, FAILED and CANCELLED are terminal. COMPENSATION_FAILED: a compensation failed for good and the ' +
    'order waits for an operator (not terminal).',
});
