/**
 * The problem mapping in this process, the way a client meets it: every error a route can throw answered by the
 * API's `onError` and validation hook (`api/problems/`), with the status, problem type, fields and headers of the
 * contract (DESIGN.md), and what an operator finds in the log. The stack tests (`*.api.test.ts`) meet the same code
 * through the real dependencies; these pin each branch without them.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { isGrpcServiceError } from '@temporalio/client';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { requestContext } from '../../api/middleware/request-context.js';
import { isDatabaseUnavailable } from '../../api/problems/database-errors.js';
import { handleError } from '../../api/problems/error-handler.js';
import { notFound, PROBLEM_BASE, ProblemError } from '../../api/problems/problem.js';
import { createRouter } from '../../api/router.js';
import { createLogger } from '../../core/logger.js';

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  path?: string;
  method?: string;
  err?: { message?: string; stack?: string };
}

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  orderStatus?: string;
  orderId?: string;
}

/** An app whose `/boom` throws the error given, mounted like the API's: request ids, validation hook, `onError`. */
function appThrowing(error: () => unknown, retryAfterSeconds = 9) {
  const lines: LogLine[] = [];
  const logger = createLogger('api', 'debug', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as LogLine);
    },
  });
  const app = createRouter();
  app.use('*', requestContext(logger));
  app.post('/boom', () => {
    throw error();
  });
  app.onError(handleError(logger, retryAfterSeconds));
  const call = async (init: RequestInit = { method: 'POST' }) => {
    const response = await app.request('/boom', init);
    return { response, body: (await response.json()) as ProblemBody };
  };
  return { call, lines: () => lines.filter((line) => line.msg !== 'request') };
}

const grpcError = (code: number, message: string) =>
  Object.assign(new Error(message), { code, details: message, metadata: { get: () => [] } });

describe('problem answers of thrown errors', () => {
  it('answers a ProblemError with its own status, type, title, detail, instance and extensions', async () => {
    const { call } = appThrowing(
      () =>
        new ProblemError('order-not-cancellable', 'Shipping has started', {
          orderStatus: 'SHIPPING',
          orderId: 'ord_1',
          errors: [{ path: 'x', message: 'y' }],
        }),
    );
    const { response, body } = await call();
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(body).toEqual({
      // The type URI of the contract (DESIGN.md), spelled out: PROBLEM_BASE itself is under test.
      type: 'https://order-saga.dev/problems/order-not-cancellable',
      title: 'Order can no longer be cancelled',
      status: 409,
      detail: 'Shipping has started',
      instance: '/boom',
      errors: [{ path: 'x', message: 'y' }],
      orderStatus: 'SHIPPING',
      orderId: 'ord_1',
    });
  });

  it('leaves out the extensions a problem does not carry', async () => {
    const { call } = appThrowing(() => notFound('No order ord_2'));
    const { response, body } = await call();
    expect(response.status).toBe(404);
    expect(body).toMatchObject({ type: `${PROBLEM_BASE}not-found`, detail: 'No order ord_2' });
    expect(Object.keys(body).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
  });

  it('gives every 503 a Retry-After: the configured one when the problem has none, its own otherwise', async () => {
    const bare = appThrowing(
      () => new ProblemError('order-unavailable', 'No worker answered', { orderId: 'o' }),
    );
    const { response, body } = await bare.call();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('9');
    // The rebuilt problem keeps what the thrown one carried.
    expect(body).toMatchObject({
      type: `${PROBLEM_BASE}order-unavailable`,
      detail: 'No worker answered',
      orderId: 'o',
    });

    const own = appThrowing(
      () =>
        new ProblemError('overloaded', 'Too many', { headers: { 'retry-after': '2', 'x-extra': 'kept' } }),
    );
    const answer = await own.call();
    expect(answer.response.headers.get('retry-after')).toBe('2');
    expect(answer.response.headers.get('x-extra')).toBe('kept');
  });

  it('sends no Retry-After with a problem that is not a 503', async () => {
    const { call } = appThrowing(() => new ProblemError('forbidden', 'Admins only'));
    const { response } = await call();
    expect(response.status).toBe(403);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it.each([
    [400, 'malformed-json', 'The body is not valid JSON'],
    [415, 'unsupported-media-type', 'Send the body as application/json'],
    [413, 'body-too-large', 'The body is over the size limit'],
  ] as const)('answers the framework %i as %s', async (status, slug, detail) => {
    const { call, lines } = appThrowing(() => new HTTPException(status, { message: 'framework text' }));
    const { response, body } = await call();
    expect(response.status).toBe(status);
    expect(body).toMatchObject({ type: `${PROBLEM_BASE}${slug}`, status, detail });
    expect(lines()).toEqual([]);
  });

  it('answers another framework exception as a logged 500', async () => {
    const { call, lines } = appThrowing(() => new HTTPException(401, { message: 'framework text' }));
    const { response, body } = await call();
    expect(response.status).toBe(500);
    expect(body.type).toBe(`${PROBLEM_BASE}internal`);
    expect(lines().map((line) => line.msg)).toEqual(['unhandled error']);
  });

  it('answers a Temporal outage as 503 temporal-unavailable with Retry-After, and warns with the request id', async () => {
    const { call, lines } = appThrowing(
      () => new Error('start failed', { cause: grpcError(14, 'no connection') }),
    );
    expect(isGrpcServiceError(grpcError(14, 'x'))).toBe(true);
    const { response, body } = await call({ method: 'POST', headers: { 'x-request-id': 'req-temporal' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('9');
    expect(response.headers.get('x-request-id')).toBe('req-temporal');
    expect(body).toMatchObject({
      type: `${PROBLEM_BASE}temporal-unavailable`,
      detail: 'The workflow engine is unreachable; retry later',
      instance: '/boom',
    });
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'temporal unavailable',
        requestId: 'req-temporal',
        path: '/boom',
        err: { message: 'start failed' },
      }),
    ]);
  });

  it('answers a database outage as 503 database-unavailable with Retry-After, and warns with the request id', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { call, lines } = appThrowing(() => new Error('Failed query', { cause: refused }), 4);
    const { response, body } = await call({ method: 'POST', headers: { 'x-request-id': 'req-db' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('4');
    expect(body).toMatchObject({
      type: `${PROBLEM_BASE}database-unavailable`,
      status: 503,
      detail: 'The database is unreachable; retry later',
    });
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'database unavailable',
        requestId: 'req-db',
        path: '/boom',
        err: { message: 'Failed query' },
      }),
    ]);
  });

  it('answers a bug as 500 without its message or stack, and logs both under the request id', async () => {
    const { call, lines } = appThrowing(() => new TypeError('secret internals: cannot read x of undefined'));
    const { response, body } = await call({ method: 'POST', headers: { 'x-request-id': 'req-bug' } });
    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(body).toEqual({
      type: `${PROBLEM_BASE}internal`,
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred; it has been logged',
      instance: '/boom',
    });
    expect(JSON.stringify(body)).not.toContain('secret internals');
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 50,
      msg: 'unhandled error',
      requestId: 'req-bug',
      path: '/boom',
      method: 'POST',
    });
    expect(line?.err?.message).toContain('secret internals');
    expect(line?.err?.stack).toContain('TypeError');
  });
});

describe('validation problems', () => {
  const route = createRoute({
    method: 'post',
    path: '/items/{id}',
    request: {
      params: z.object({ id: z.string().regex(/^it_\d+$/) }),
      query: z.object({ limit: z.coerce.number().int().max(10).optional() }),
      body: {
        content: {
          'application/json': {
            schema: z.object({ items: z.array(z.object({ quantity: z.number().int().min(1) })).min(1) }),
          },
        },
      },
    },
    responses: { 200: { description: 'ok' } },
  });
  const app = createRouter();
  app.openapi(route, (c) => c.json({ ok: true }, 200));
  app.onError(handleError(createLogger('api', 'silent'), 1));
  const post = async (path: string, body: unknown) => {
    const response = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as ProblemBody };
  };

  it('answers a body that breaks the schema with 422 validation, listing each field by dotted path', async () => {
    const { status, body } = await post('/items/it_1', { items: [{ quantity: 1 }, { quantity: 0 }] });
    expect(status).toBe(422);
    expect(body.type).toBe(`${PROBLEM_BASE}validation`);
    expect(body.detail).toBe('The body did not match the schema; see errors');
    expect(body.errors).toEqual([{ path: 'items.1.quantity', message: expect.any(String) }]);
  });

  it('names a body that is not an object at all "(body)"', async () => {
    const { status, body } = await post('/items/it_1', ['not', 'an', 'object']);
    expect(status).toBe(422);
    expect(body.errors).toEqual([{ path: '(body)', message: expect.any(String) }]);
  });

  it('answers a bad path parameter with 400 invalid-parameter under "path"', async () => {
    const { status, body } = await post('/items/nope', { items: [{ quantity: 1 }] });
    expect(status).toBe(400);
    expect(body.type).toBe(`${PROBLEM_BASE}invalid-parameter`);
    expect(body.detail).toBe('A path parameter is invalid; see errors');
    expect(body.errors).toEqual([{ path: 'path.id', message: expect.any(String) }]);
  });

  it('answers a bad query parameter with 400 invalid-parameter under "query"', async () => {
    const { status, body } = await post('/items/it_1?limit=50', { items: [{ quantity: 1 }] });
    expect(status).toBe(400);
    expect(body.detail).toBe('A query parameter is invalid; see errors');
    expect(body.errors).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
  });

  it('lets a valid request through', async () => {
    const response = await app.request('/items/it_7?limit=3', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ quantity: 2 }] }),
    });
    expect(response.status).toBe(200);
  });
});

describe('database outages told from bugs', () => {
  const withCode = (code: unknown) => Object.assign(new Error('x'), { code });

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'ENOTFOUND',
    'EAI_AGAIN',
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECTION_DESTROYED',
    'CONNECT_TIMEOUT',
    '08006',
    '08001',
    '57P01',
    '57P02',
    '57P03',
    '53300',
    '57014',
    '25P03',
  ])('counts %s as the database being unavailable', (code) => {
    expect(isDatabaseUnavailable(withCode(code))).toBe(true);
  });

  it.each([
    '23505',
    '40001',
    '42P01',
    '57P04',
    '080069',
    'x08006',
    '157014',
    '25P031',
    'ECONNABORTED',
    'econnrefused',
  ])('counts %s as a bug (or a conflict), not an outage', (code) => {
    expect(isDatabaseUnavailable(withCode(code))).toBe(false);
  });

  it('looks through the causes, stops at a cycle, and ignores codes that are not strings', () => {
    const deep = new Error('a', { cause: new Error('b', { cause: withCode('57P01') }) });
    expect(isDatabaseUnavailable(deep)).toBe(true);
    const loop = withCode('23505') as Error & { cause?: unknown };
    loop.cause = new Error('c', { cause: loop });
    expect(isDatabaseUnavailable(loop)).toBe(false);
    // Driver codes and SQLSTATEs are strings; a number that reads like one is not a database's answer.
    expect(isDatabaseUnavailable(withCode(57014))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});
