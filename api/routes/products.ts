/** Catalog routes: list products, and (admin) set a product's name, price and stock. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { listProducts, upsertProduct } from '../../activities/catalog.js';
import type { Database } from '../../db/client.js';
import { type AuthConfig, type AuthVariables, requireKey } from '../auth.js';
import { limitBody, requireJsonContentType } from '../json-body.js';
import { API_LIMITS } from '../limits.js';
import { ProductList, ProductUpdate, ProductView, SkuParam } from '../schemas/products.js';
import { BODY_PROBLEMS, problemResponses, V1_PROBLEMS } from './responses.js';

const listRoute = createRoute({
  method: 'get',
  path: '/v1/products',
  operationId: 'listProducts',
  tags: ['products'],
  summary: 'List products with price and stock',
  responses: {
    200: { description: 'Every product, by SKU', content: { 'application/json': { schema: ProductList } } },
    ...problemResponses(...V1_PROBLEMS),
  },
});

function putRoute(auth: AuthConfig) {
  return createRoute({
    method: 'put',
    path: '/v1/products/{sku}',
    operationId: 'putProduct',
    tags: ['products'],
    summary: 'Create or update a product (admin key)',
    description: 'Sets name, price and available stock (idempotent). Needs a key from `ADMIN_API_KEYS`.',
    middleware: [requireKey(auth, 'admin'), requireJsonContentType, limitBody(API_LIMITS.maxBodyBytes)],
    request: {
      params: SkuParam,
      body: { required: true, content: { 'application/json': { schema: ProductUpdate } } },
    },
    responses: {
      200: {
        description: 'The product as stored',
        content: { 'application/json': { schema: ProductView } },
      },
      ...problemResponses(...BODY_PROBLEMS, 403, ...V1_PROBLEMS),
    },
  });
}

/** Mounts the catalog routes; PUT needs an admin key. */
export function registerProductRoutes(
  app: OpenAPIHono<{ Variables: AuthVariables }>,
  db: Database,
  auth: AuthConfig,
) {
  app.openapi(listRoute, async (c) => c.json({ items: await listProducts(db) }, 200));
  app.openapi(putRoute(auth), async (c) => {
    const { sku } = c.req.valid('param');
    const product = await upsertProduct(db, { sku, ...c.req.valid('json') });
    return c.json(product, 200);
  });
}
