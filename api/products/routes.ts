/**
 * Catalog routes: list products, read one (with its `ETag`), and (admin) set a product's name, price and stock with
 * optimistic concurrency: `If-Match` makes an update conditional on the version read, so two admins editing the same
 * product cannot silently overwrite each other (the second gets `412`).
 */
import { createRoute } from '@hono/zod-openapi';
import type { Database } from '../../db/client.js';
import { getProduct, listProducts, type ProductWriteResult, putProduct } from '../../db/queries/catalog.js';
import { API_LIMITS } from '../limits.js';
import { type AuthConfig, requireKey } from '../middleware/auth.js';
import { limitBody, requireJsonContentType } from '../middleware/json-body.js';
import { notFound, ProblemError } from '../problems/problem.js';
import { BODY_PROBLEMS, problemResponses, V1_PROBLEMS } from '../problems/responses.js';
import { createRouter } from '../router.js';
import { productEtag, writeConditionOf } from './etag.js';
import {
  ETAG_HEADER,
  ProductList,
  ProductUpdate,
  ProductView,
  ProductWriteHeaders,
  SkuParam,
} from './schemas.js';

const listRoute = createRoute({
  method: 'get',
  path: '/v1/products',
  operationId: 'listProducts',
  tags: ['products'],
  summary: 'List products with price and stock',
  description: 'Each product carries its `version`; its `ETag` (for `If-Match`) is `"v<version>"`.',
  responses: {
    200: { description: 'Every product, by SKU', content: { 'application/json': { schema: ProductList } } },
    ...problemResponses(...V1_PROBLEMS),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/products/{sku}',
  operationId: 'getProduct',
  tags: ['products'],
  summary: 'One product, with its ETag',
  request: { params: SkuParam },
  responses: {
    200: {
      description: 'The product',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: ProductView } },
    },
    ...problemResponses(400, 404, ...V1_PROBLEMS),
  },
});

/** 412 and 428, described for this route (the shared descriptions know no conditional requests). */
function preconditionResponses() {
  const problems = problemResponses(412, 428);
  return {
    412: {
      ...problems[412],
      description:
        '`If-Match` names another version than the current one (someone changed the product since you read it), ' +
        '`If-Match: *` for a product that does not exist, or `If-None-Match: *` for one that does. `ETag` carries ' +
        'the current version when the product exists: GET it, merge, retry.',
      headers: { ETag: { ...ETAG_HEADER.ETag, required: false } },
    },
    428: {
      ...problems[428],
      description:
        'The product exists and the request has no `If-Match`: send the `ETag` you read, or `If-Match: *` to ' +
        'overwrite whatever is there. `ETag` carries the current version.',
      headers: ETAG_HEADER,
    },
  };
}

function putRoute(auth: AuthConfig) {
  return createRoute({
    method: 'put',
    path: '/v1/products/{sku}',
    operationId: 'putProduct',
    tags: ['products'],
    summary: 'Create or update a product (admin key), conditionally',
    description:
      'Sets name, price and available stock. Needs a key from `ADMIN_API_KEYS`. **Creating** needs no precondition ' +
      '(`201`; `If-None-Match: *` makes it create-only). **Changing** an existing product needs `If-Match`: the ' +
      '`ETag` from `GET /v1/products/{sku}` (or `"v<version>"` from the listing) updates only if nobody changed the ' +
      'product since (`412` otherwise), `If-Match: *` overwrites unconditionally; without `If-Match` it is `428`. ' +
      'Every update bumps `version` and answers with the new `ETag`. The check and the write are one statement, ' +
      'so of two writers with the same `ETag` exactly one wins. A retried `PUT` whose first attempt landed gets ' +
      '`412`/`428`: GET the product to see whether it holds your values.',
    middleware: [requireKey(auth, 'admin'), requireJsonContentType, limitBody(API_LIMITS.maxBodyBytes)],
    request: {
      params: SkuParam,
      headers: ProductWriteHeaders,
      body: { required: true, content: { 'application/json': { schema: ProductUpdate } } },
    },
    responses: {
      200: {
        description: 'Updated; the product as stored, with its new `ETag`',
        headers: ETAG_HEADER,
        content: { 'application/json': { schema: ProductView } },
      },
      201: {
        description: 'Created; the product as stored, with its `ETag`',
        headers: ETAG_HEADER,
        content: { 'application/json': { schema: ProductView } },
      },
      ...problemResponses(...BODY_PROBLEMS, 403, ...V1_PROBLEMS),
      ...preconditionResponses(),
    },
  });
}

/** The problem for a refused write, with the current `ETag` when the product exists. */
function refusal(sku: string, result: Extract<ProductWriteResult, { current: unknown }>) {
  const headers = result.current ? { etag: productEtag(result.current.version) } : undefined;
  const extra = headers ? { headers } : {};
  if (result.outcome === 'precondition-required') {
    return new ProblemError(
      'precondition-required',
      `Product ${sku} exists (version ${result.current?.version}); send If-Match with its ETag, or If-Match: * to overwrite it`,
      extra,
    );
  }
  const detail = result.current
    ? `Product ${sku} is at version ${result.current.version} (ETag ${productEtag(result.current.version)}), which the precondition does not allow; GET it and retry`
    : `Product ${sku} does not exist, and the precondition requires it to`;
  return new ProblemError('precondition-failed', detail, extra);
}

/** What the catalog routes need: the catalog's database and the keys (PUT needs an admin key). */
export interface ProductsRouterDeps {
  db: Database;
  auth: AuthConfig;
}

/** The products resource: `GET /v1/products`, `GET /v1/products/{sku}` and the admin `PUT /v1/products/{sku}`. */
export function productsRouter({ db, auth }: ProductsRouterDeps) {
  const router = createRouter();
  router.openapi(listRoute, async (c) => c.json({ items: await listProducts(db) }, 200));
  router.openapi(getRoute, async (c) => {
    const { sku } = c.req.valid('param');
    const product = await getProduct(db, sku);
    if (!product) throw notFound(`No product with SKU ${sku}`);
    return c.json(product, 200, { etag: productEtag(product.version) });
  });
  router.openapi(putRoute(auth), async (c) => {
    const { sku } = c.req.valid('param');
    const headers = c.req.valid('header');
    const condition = writeConditionOf(headers['if-match'], headers['if-none-match']);
    const result = await putProduct(db, { sku, ...c.req.valid('json') }, condition);
    if (!('product' in result)) throw refusal(sku, result);
    const etag = { etag: productEtag(result.product.version) };
    return result.outcome === 'created'
      ? c.json(result.product, 201, etag)
      : c.json(result.product, 200, etag);
  });
  return router;
}
