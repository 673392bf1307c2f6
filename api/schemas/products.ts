/** Catalog request and response shapes. */
import { z } from '@hono/zod-openapi';
import { Sku, safeText } from './common.js';

/** A product with its price and stock. */
export const ProductView = z
  .object({
    sku: z.string().openapi({ example: 'MUG-RED' }),
    name: z.string().openapi({ example: 'Red mug' }),
    priceCents: z.number().int().openapi({ example: 1299 }),
    available: z.number().int().openapi({ example: 98, description: 'Units that can still be ordered.' }),
    reserved: z.number().int().openapi({ example: 2, description: 'Units held by running orders.' }),
  })
  .openapi('Product');

/** Answer of `GET /v1/products`. */
export const ProductList = z.object({ items: z.array(ProductView) }).openapi('ProductList');

/** Body of the admin `PUT /v1/products/{sku}`. */
export const ProductUpdate = z
  .strictObject({
    name: safeText(200).openapi({ example: 'Red mug' }),
    priceCents: z.number().int().min(0).max(100_000_000).openapi({ example: 1299 }),
    available: z.number().int().min(0).max(1_000_000_000).openapi({ example: 100 }),
  })
  .openapi('ProductUpdate', {
    description: 'Sets the product (creates it if new). `reserved` is never set here.',
  });

/** Path parameter of the product route. */
export const SkuParam = z.object({
  sku: Sku.openapi({ param: { name: 'sku', in: 'path', description: 'The SKU to create or update.' } }),
});
