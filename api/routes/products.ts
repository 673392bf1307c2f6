/** Catalog routes: list products, and (admin) set a product's name, price and stock. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { listProducts, upsertProduct } from '../../activities/catalog.js';
import type { Database } from '../../db/client.js';
import { type AuthConfig, type AuthVariables, requireKey } from '../auth.js';
import { ProductUpdate, ProductView, SkuParam } from '../schemas.js';
import { problemResponses } from './responses.js';

const listRoute = createRoute({
  method: 'get',
  path: '/v1/products',
  summary: 'List products with price and stock',
  responses: {
    200: {
      description: 'Every product',
      content: { 'application/json': { schema: z.object({ items: z.array(ProductView) }) } },
    },
    ...problemResponses(401, 503),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/v1/products/{sku}',
  summary: 'Create or update a product (admin)',
  security: [{ bearer: [] }],
  request: {
    params: SkuParam,
    body: { required: true, content: { 'application/json': { schema: ProductUpdate } } },
  },
  responses: {
    200: { description: 'The product as stored', content: { 'application/json': { schema: ProductView } } },
    ...problemResponses(400, 401, 403, 413, 415, 422, 503),
  },
});

/** Mounts the catalog routes; PUT needs an admin key. */
export function registerProductRoutes(
  app: OpenAPIHono<{ Variables: AuthVariables }>,
  db: Database,
  auth: AuthConfig,
) {
  app.openapi(listRoute, async (c) => c.json({ items: await listProducts(db) }, 200));
  app.use('/v1/products/:sku', async (c, next) => {
    if (c.req.method === 'PUT') return requireKey(auth, 'admin')(c, next);
    return next();
  });
  app.openapi(putRoute, async (c) => {
    const { sku } = c.req.valid('param');
    const product = await upsertProduct(db, { sku, ...c.req.valid('json') });
    return c.json(product, 200);
  });
}
