/** Unit-level checks of the API's pure parts: cursors, idempotency keys, allowed methods, error classification. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { allowedMethodsOf } from '../../api/middleware/method-not-allowed.js';
import { decodeCursor, encodeCursor } from '../../api/orders/cursor.js';
import { wantsEventStream } from '../../api/orders/event-routes.js';
import { canonicalJson, orderIdFor, requestHash } from '../../api/orders/idempotency.js';
import { isDatabaseUnavailable } from '../../api/problems/database-errors.js';
import { ProblemError } from '../../api/problems/problem.js';
import { isTemporalUnavailable } from '../../api/temporal/calls.js';

describe('listing cursor', () => {
  const position = {
    createdAt: '2026-01-31T12:00:00.123456Z',
    orderId: 'ord_0123456789abcdef0123456789abcdef',
  };

  it('round-trips for the same filters and secret', () => {
    const cursor = encodeCursor(position, 'status=FAILED', 'secret');
    expect(decodeCursor(cursor, 'status=FAILED', 'secret')).toEqual(position);
  });

  it.each([
    ['other filters', (c: string) => c, 'status=COMPLETED', 'secret'],
    ['another secret', (c: string) => c, 'status=FAILED', 'other'],
    ['an edited payload', (c: string) => `x${c}`, 'status=FAILED', 'secret'],
    [
      'an edited tag',
      (c: string) => `${c.slice(0, -1)}${c.endsWith('A') ? 'B' : 'A'}`,
      'status=FAILED',
      'secret',
    ],
    ['garbage', () => 'not-a-cursor', 'status=FAILED', 'secret'],
  ])('refuses %s with invalid-cursor', (_name, edit, scope, secret) => {
    const cursor = edit(encodeCursor(position, 'status=FAILED', 'secret'));
    expect(() => decodeCursor(cursor, scope, secret)).toThrow(ProblemError);
  });
});

describe('idempotency', () => {
  it('derives the same order id for the same client and key, another for another client or key', () => {
    const id = orderIdFor('client-a', 'key-1');
    expect(id).toMatch(/^ord_[0-9a-f]{32}$/);
    expect(orderIdFor('client-a', 'key-1')).toBe(id);
    expect(orderIdFor('client-b', 'key-1')).not.toBe(id);
    expect(orderIdFor('client-a', 'key-2')).not.toBe(id);
    // Without a key the id is random, in the same form.
    expect(orderIdFor('client-a', undefined)).toMatch(/^ord_[0-9a-f]{32}$/);
    expect(orderIdFor('client-a', undefined)).not.toBe(orderIdFor('client-a', undefined));
  });

  it('hashes bodies independently of key order', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe('{"a":[{"x":1,"y":2}],"b":1}');
    expect(requestHash({ a: 1, b: 2 })).toBe(requestHash({ b: 2, a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
    // Arrays keep their element boundaries: [1,2] and [12] are different bodies.
    expect(canonicalJson([1, 2])).toBe('[1,2]');
    expect(requestHash({ q: [1, 2] })).not.toBe(requestHash({ q: [12] }));
    expect(requestHash({ items: ['a', 'b'] })).not.toBe(requestHash({ items: ['ab'] }));
  });
});

describe('allowed methods', () => {
  it('lists the methods of every route matching a path, HEAD with GET', () => {
    const app = new OpenAPIHono();
    app.use('*', async (_c, next) => next());
    app.get('/v1/orders', (c) => c.text(''));
    app.post('/v1/orders', (c) => c.text(''));
    app.post('/v1/orders/:orderId/cancel', (c) => c.text(''));
    const allowed = allowedMethodsOf(app);
    expect(allowed('/v1/orders')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowed('/v1/orders/ord_1/cancel')).toEqual(['POST']);
    expect(allowed('/v1/nothing')).toEqual([]);
  });
});

describe('error classification', () => {
  it('tells Temporal outages from other errors', () => {
    const grpc = (code: number) => Object.assign(new Error('grpc'), { code, details: '', metadata: {} });
    expect(isTemporalUnavailable(new Error('wrapper', { cause: grpc(14) }))).toBe(true);
    expect(isTemporalUnavailable(grpc(4))).toBe(true);
    expect(isTemporalUnavailable(grpc(3))).toBe(false);
    expect(isTemporalUnavailable(new Error('boom'))).toBe(false);
  });

  it('tells database outages from bugs', () => {
    expect(
      isDatabaseUnavailable(
        new Error('query', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    // Cancelled at the statement timeout, ended idle in a transaction: too slow or too far now, so 503.
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57014' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '25P03' }))).toBe(true);
  });
});

describe('shedLoad', () => {
  it('answers 503 overloaded with Retry-After once the in-flight bound is reached, and recovers', async () => {
    const { Hono } = await import('hono');
    const { shedLoad } = await import('../../api/middleware/load-shedding.js');
    const { ProblemError, problemResponse } = await import('../../api/problems/problem.js');
    const app = new Hono();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    app.use('*', shedLoad(2, 7));
    app.get('/slow', async (c) => {
      await gate;
      return c.text('ok');
    });
    app.onError((err, c) => (err instanceof ProblemError ? problemResponse(c, err) : c.text('boom', 500)));
    const first = app.request('/slow');
    const second = app.request('/slow');
    const shed = await app.request('/slow');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('7');
    expect(await shed.json()).toMatchObject({
      type: 'https://order-saga.dev/problems/overloaded',
      detail: 'More than 2 requests in progress; retry shortly',
    });
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await app.request('/slow')).status).toBe(200);
  });
});

describe('load shedding', () => {
  it('frees the slot of a request that failed, so errors do not shrink the bound', async () => {
    const { Hono } = await import('hono');
    const { shedLoad } = await import('../../api/middleware/load-shedding.js');
    const app = new Hono();
    app.use('*', shedLoad(1, 3));
    app.get('/fail', () => {
      throw new Error('handler bug');
    });
    app.get('/ok', (c) => c.text('ok'));
    app.onError((err, c) =>
      err instanceof ProblemError ? c.text(err.slug, err.status as 503) : c.text('bug', 500),
    );
    for (let i = 0; i < 3; i += 1) expect((await app.request('/fail')).status).toBe(500);
    expect((await app.request('/ok')).status).toBe(200);
  });

  it('caps open event streams, tells the client when to come back, and frees each slot once', async () => {
    const { StreamSlots } = await import('../../api/middleware/load-shedding.js');
    const slots = new StreamSlots(2, 5);
    const first = slots.acquire();
    const second = slots.acquire();
    expect(slots.count).toBe(2);
    let refused: unknown;
    try {
      slots.acquire();
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ProblemError);
    expect(refused).toMatchObject({
      slug: 'overloaded',
      status: 503,
      detail: 'More than 2 event streams are open; retry shortly',
      extra: { headers: { 'retry-after': '5' } },
    });
    first();
    // A stream that ends twice (error, then close) gives back one slot, not two.
    first();
    expect(slots.count).toBe(1);
    const third = slots.acquire();
    expect(() => slots.acquire()).toThrow(ProblemError);
    second();
    third();
    expect(slots.count).toBe(0);
  });
});

describe('event stream negotiation', () => {
  it('streams only when text/event-stream is asked for (not by */* or q=0)', () => {
    expect(wantsEventStream('text/event-stream')).toBe(true);
    expect(wantsEventStream('application/json, Text/Event-Stream;q=0.5')).toBe(true);
    expect(wantsEventStream('text/event-stream;q=0')).toBe(false);
    expect(wantsEventStream('*/*')).toBe(false);
    expect(wantsEventStream('text/*')).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
  });
});
