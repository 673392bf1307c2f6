/** Catalog request and response shapes. */
import { z } from '@hono/zod-openapi';
import { Sku, safeText } from '../common-schemas.js';
import { IF_MATCH } from './etag.js';

/** A product with its price and stock. */
export const ProductView = z
  .object({
    sku: z.string().openapi({ example: 'MUG-RED' }),
    name: z.string().openapi({ example: 'Red mug' }),
    priceCents: z.number().int().openapi({ example: 1299 }),
    available: z.number().int().openapi({ example: 98, description: 'Units that can still be ordered.' }),
    reserved: z.number().int().openapi({ example: 2, description: 'Units held by running orders.' }),
    version: z
      .number()
      .int()
      .min(1)
      .openapi({
        example: 3,
        description:
          'Bumped by every catalog write; the `ETag` is `"v<version>"`. Reservations by orders move `available` ' +
          'and `reserved` without bumping it: it guards what an admin sets.',
      }),
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
  sku: Sku.openapi({ param: { name: 'sku', in: 'path', description: "The product's SKU." } }),
});

/** The `ETag` response header of a product route. */
export const ETAG_HEADER = {
  ETag: {
    description:
      'Strong entity tag of the product, `"v<version>"`: send it back in `If-Match` to update it only if nobody ' +
      'changed it since.',
    required: true,
    schema: { type: 'string' as const, pattern: '^"v[0-9]+"$', example: '"v3"' },
  },
};

/** Conditional-request headers of the admin `PUT /v1/products/{sku}`. */
export const ProductWriteHeaders = z.object({
  'if-match': z
    .string()
    .max(1024)
    .regex(IF_MATCH, 'must be `*` or a list of entity tags such as `"v3"`')
    .optional()
    .openapi({
      param: {
        name: 'if-match',
        in: 'header',
        description:
          'The `ETag` you read (`"v3"`): the update happens only if the product is still at that version, else ' +
          '`412`. `*` overwrites whatever version there is (and refuses to create). Required to change an existing ' +
          'product (`428` without it).',
      },
      example: '"v3"',
    }),
  'if-none-match': z
    .string()
    .regex(/^[ \t]*\*[ \t]*$/, 'must be `*`')
    .optional()
    .openapi({
      param: {
        name: 'if-none-match',
        in: 'header',
        description: '`*`: create only; `412` if the product exists.',
      },
      example: '*',
    }),
});
