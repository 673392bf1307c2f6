/** Every error case of the contract, over HTTP against the real stack with auth on: each a distinct problem+json 4xx. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_LIMITS } from '../../api/limits.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { ADMIN_KEY, AUTH_ENV, type CallOptions, call, orderBody, problemSlug } from './http.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    env: AUTH_ENV,
  });
});

afterAll(async () => {
  await stack?.stop();
});

const send = (method: string, path: string, options?: CallOptions) =>
  call(stack.baseUrl, method, path, options);

describe('bad bodies', () => {
  it('malformed JSON is 400 malformed-json', async () => {
    const res = await send('POST', '/v1/orders', { body: '{"customerId": ' });
    expect(res.status).toBe(400);
    expect(problemSlug(res)).toBe('malformed-json');
  });

  it('a body that is not application/json is 415, with or without a content type', async () => {
    const text = await send('POST', '/v1/orders', {
      body: JSON.stringify(orderBody()),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(problemSlug(text)).toBe('unsupported-media-type');
    const none = await send('POST', '/v1/orders');
    expect(none.status).toBe(415);
    const form = await send('PUT', '/v1/products/MUG-RED', {
      key: ADMIN_KEY,
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('an oversized body is 413, by Content-Length and when streamed in chunks', async () => {
    const big = orderBody({ customerId: 'x'.repeat(API_LIMITS.maxBodyBytes) });
    const res = await send('POST', '/v1/orders', { body: big });
    expect(res.status).toBe(413);
    expect(problemSlug(res)).toBe('body-too-large');
    expect(res.headers.get('connection')).toBe('close');
    const chunks = new ReadableStream({
      start(controller) {
        const chunk = new TextEncoder().encode(' '.repeat(16 * 1024));
        for (let i = 0; i < 8; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const streamed = await fetch(`${stack.baseUrl}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-client-key' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('an unknown SKU is 422 unknown-sku naming the failing item', async () => {
    const res = await send('POST', '/v1/orders', {
      body: orderBody({
        items: [
          { sku: 'MUG-RED', quantity: 1 },
          { sku: 'NOPE', quantity: 1 },
        ],
      }),
    });
    expect(res.status).toBe(422);
    expect(problemSlug(res)).toBe('unknown-sku');
    expect(res.json.errors).toEqual([{ path: 'items.1.sku', message: 'unknown SKU' }]);
  });

  it.each([
    ['quantity 0', { items: [{ sku: 'MUG-RED', quantity: 0 }] }, 'items.0.quantity'],
    [
      'quantity over the limit',
      { items: [{ sku: 'MUG-RED', quantity: API_LIMITS.maxQuantity + 1 }] },
      'items.0.quantity',
    ],
    ['a fractional quantity', { items: [{ sku: 'MUG-RED', quantity: 1.5 }] }, 'items.0.quantity'],
    ['no items', { items: [] }, 'items'],
    [
      'too many items',
      { items: Array.from({ length: API_LIMITS.maxItems + 1 }, () => ({ sku: 'MUG-RED', quantity: 1 })) },
      'items',
    ],
    ['an unknown top-level field', { coupon: 'FREE' }, '(body)'],
    ['an unknown nested field', { payment: { token: 'tok_ok', cvv: '123' } }, 'payment'],
    [
      'a lower-case country',
      { shippingAddress: { ...orderBody().shippingAddress, country: 'gb' } },
      'shippingAddress.country',
    ],
    [
      'a control character',
      { shippingAddress: { ...orderBody().shippingAddress, name: 'Ada\u0000' } },
      'shippingAddress.name',
    ],
    ['a wrong type', { customerId: 42 }, 'customerId'],
  ])('%s is 422 validation with the failing field', async (_name, overrides, path) => {
    const res = await send('POST', '/v1/orders', { body: orderBody(overrides) });
    expect(res.status).toBe(422);
    expect(problemSlug(res)).toBe('validation');
    expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('a bad product update is 422', async () => {
    const res = await send('PUT', '/v1/products/MUG-RED', {
      key: ADMIN_KEY,
      body: { name: 'Red mug', priceCents: -1, available: 1 },
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([expect.objectContaining({ path: 'priceCents' })]);
  });
});

describe('bad parameters', () => {
  it.each([
    ['/v1/orders?limit=0', 'query.limit'],
    [`/v1/orders?limit=${API_LIMITS.maxPageSize + 1}`, 'query.limit'],
    ['/v1/orders?limit=ten', 'query.limit'],
    ['/v1/orders?status=SHIPPED', 'query.status'],
    ['/v1/orders?customerId=a%20b', 'query.customerId'],
  ])('GET %s is 400 invalid-parameter', async (path, field) => {
    const res = await send('GET', path);
    expect(res.status).toBe(400);
    expect(problemSlug(res)).toBe('invalid-parameter');
    expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('a wait over the cap and a malformed Idempotency-Key are 400', async () => {
    const wait = await send('POST', `/v1/orders?wait=${API_LIMITS.maxWaitSeconds + 1}`, {
      body: orderBody(),
    });
    expect(wait.status).toBe(400);
    expect(wait.json.errors[0].path).toBe('query.wait');
    const key = await send('POST', '/v1/orders', {
      body: orderBody(),
      headers: { 'idempotency-key': 'has spaces' },
    });
    expect(key.status).toBe(400);
    expect(key.json.errors[0].path).toBe('header.idempotency-key');
  });

  it('a cursor that was altered is 400 invalid-cursor', async () => {
    const res = await send(
      'GET',
      '/v1/orders?cursor=eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDAwMDBaIiwiaSI6Im9yZF94In0.AAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(res.status).toBe(400);
    expect(problemSlug(res)).toBe('invalid-cursor');
  });
});

describe('routing', () => {
  it('an unknown route is 404 not-found', async () => {
    const res = await send('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(problemSlug(res)).toBe('not-found');
    const root = await send('GET', '/nope', { key: null });
    expect(root.status).toBe(404);
  });

  it('an unknown order is 404, for reading and for cancelling', async () => {
    for (const id of ['ord_00000000000000000000000000000000', 'not-an-order']) {
      expect((await send('GET', `/v1/orders/${id}`)).status).toBe(404);
      const cancel = await send('POST', `/v1/orders/${id}/cancel`);
      expect(cancel.status).toBe(404);
      expect(problemSlug(cancel)).toBe('not-found');
    }
  });

  it.each([
    ['DELETE', '/v1/orders', 'GET, HEAD, POST'],
    ['PATCH', '/v1/orders/ord_00000000000000000000000000000000', 'GET, HEAD'],
    ['GET', '/v1/orders/ord_00000000000000000000000000000000/cancel', 'POST'],
    ['POST', '/v1/products', 'GET, HEAD'],
    ['DELETE', '/v1/products/MUG-RED', 'GET, HEAD, PUT'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['PUT', '/openapi.json', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const res = await send(method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(problemSlug(res)).toBe('method-not-allowed');
  });
});

describe('auth', () => {
  it('no key or a wrong key is 401 with WWW-Authenticate; operational routes stay open', async () => {
    for (const key of [null, 'wrong-key']) {
      const res = await send('GET', '/v1/products', { key });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(problemSlug(res)).toBe('unauthorized');
    }
    const basic = await send('GET', '/v1/products', { key: null, headers: { authorization: 'Basic eDp5' } });
    expect(basic.status).toBe(401);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics', '/docs']) {
      expect((await send('GET', path, { key: null })).status).toBe(200);
    }
  });

  it('a client key on the admin route is 403; an admin key passes', async () => {
    const update = { name: 'Gift card', priceCents: 5000, available: 7 };
    const client = await send('PUT', '/v1/products/GIFT-CARD', { body: update });
    expect(client.status).toBe(403);
    expect(problemSlug(client)).toBe('forbidden');
    const admin = await send('PUT', '/v1/products/GIFT-CARD', { key: ADMIN_KEY, body: update });
    expect(admin.status).toBe(201);
    expect(admin.json).toEqual({ sku: 'GIFT-CARD', ...update, reserved: 0, version: 1 });
    const list = await send('GET', '/v1/products');
    expect(list.json.items).toContainEqual(admin.json);
  });

  it('the problem for a rejected key never echoes the key', async () => {
    const res = await send('GET', '/v1/products', { key: 'super-secret-wrong-key' });
    expect(res.text).not.toContain('super-secret-wrong-key');
  });
});

describe('the OpenAPI document', () => {
  it('documents every route, its parameters, headers, problems and the bearer scheme', async () => {
    const res = await send('GET', '/openapi.json', { key: null });
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/asyncapi.json',
      '/docs',
      '/docs/assets/{file}',
      '/graphql',
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/readyz',
      '/v1/orders',
      '/v1/orders/{orderId}',
      '/v1/orders/{orderId}/cancel',
      '/v1/orders/{orderId}/events',
      '/v1/orders/{orderId}/notifications',
      '/v1/products',
      '/v1/products/{sku}',
    ]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const place = doc.paths['/v1/orders'].post;
    expect(place.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['idempotency-key', 'wait']);
    expect(Object.keys(place.responses).sort()).toEqual(
      ['200', '202', '400', '401', '413', '415', '422', '500', '503'].sort(),
    );
    expect(place.responses['202'].headers.Location.required).toBe(true);
    expect(place.responses['202'].links.GetOrder.operationId).toBe('getOrder');
    expect(place.responses['503'].headers['Retry-After'].required).toBe(true);
    expect(doc.paths['/v1/orders/{orderId}/cancel'].post.responses['409']).toBeDefined();
    expect(doc.paths['/v1/products/{sku}'].put.responses['403']).toBeDefined();
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.components.schemas.CreateOrderRequest.additionalProperties).toBe(false);
    expect(doc.components.schemas.CreateOrderRequest.example).toBeDefined();
    expect(doc.components.schemas.Problem.properties.type.enum).toContain(
      'https://order-saga.dev/problems/idempotency-key-reused',
    );
  });
});
