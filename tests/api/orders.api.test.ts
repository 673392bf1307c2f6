/** Order semantics over HTTP against the real stack: idempotency across an API restart, waiting, cancel, listing. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderWorkflowId } from '../../contracts/orders.js';
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
const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function runsOf(orderId: string): Promise<number> {
  let count = 0;
  for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(orderId)}'` })) {
    count += 1;
  }
  return count;
}

describe('Idempotency-Key', () => {
  it('survives an API restart: same key + same body is the same order, no second workflow', async () => {
    const key = { 'idempotency-key': unique('restart') };
    const first = await send('POST', '/v1/orders', { body: orderBody(), headers: key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.headers.get('location')).toBe(`/v1/orders/${first.json.orderId}`);

    await stack.restartApi();

    // Key order in the body does not matter: the same request, serialised differently.
    const { shippingAddress, ...rest } = orderBody();
    const again = await send('POST', '/v1/orders', { body: { shippingAddress, ...rest }, headers: key });
    expect(again.status).toBe(202);
    expect(again.json.orderId).toBe(first.json.orderId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const other = await send('POST', '/v1/orders', {
      body: orderBody({ items: [{ sku: 'MUG-RED', quantity: 3 }] }),
      headers: key,
    });
    expect(other.status).toBe(422);
    expect(problemSlug(other)).toBe('idempotency-key-reused');
    expect(await runsOf(first.json.orderId)).toBe(1);
  });

  it('concurrent retries with one key start one workflow; exactly one response is the original', async () => {
    const key = { 'idempotency-key': unique('race') };
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => send('POST', '/v1/orders', { body: orderBody(), headers: key })),
    );
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(responses.map((r) => r.json.orderId)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await runsOf(responses[0]?.json.orderId)).toBe(1);
  });

  it('a retry after the order finished returns the same final order', async () => {
    const key = { 'idempotency-key': unique('finished') };
    const first = await send('POST', '/v1/orders?wait=30', { body: orderBody(), headers: key });
    expect(first.status).toBe(200);
    expect(first.json.status).toBe('COMPLETED');
    const again = await send('POST', '/v1/orders?wait=30', { body: orderBody(), headers: key });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('keys are scoped to the API key', async () => {
    const key = { 'idempotency-key': unique('scoped') };
    const client = await send('POST', '/v1/orders', { body: orderBody(), headers: key });
    const admin = await send('POST', '/v1/orders', {
      body: orderBody(),
      headers: key,
      key: ADMIN_KEY,
    });
    expect(admin.json.orderId).not.toBe(client.json.orderId);
  });

  it('without a key, two identical posts are two orders', async () => {
    const [a, b] = await Promise.all([
      send('POST', '/v1/orders', { body: orderBody() }),
      send('POST', '/v1/orders', { body: orderBody() }),
    ]);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.json.orderId).not.toBe(b.json.orderId);
  });
});

describe('?wait=', () => {
  it('returns the final order with 200 once it ends within the wait', async () => {
    const res = await send('POST', '/v1/orders?wait=30', {
      body: orderBody({ payment: { token: 'tok_declined' } }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'FAILED', failureCode: 'PaymentDeclined' });
    expect(res.json.links.self).toBe(`/v1/orders/${res.json.orderId}`);
  });

  it('returns the current state with 202 when the wait runs out first', async () => {
    // tok_flaky fails twice with backoff, so the saga needs seconds: longer than this wait.
    const res = await send('POST', '/v1/orders?wait=0.5', {
      body: orderBody({ payment: { token: 'tok_flaky' } }),
    });
    expect(res.status).toBe(202);
    expect(res.ms).toBeGreaterThanOrEqual(500);
    expect(res.ms).toBeLessThan(5_000);
    expect(['PENDING', 'RESERVING', 'CHARGING']).toContain(res.json.status);
    expect(Array.isArray(res.json.steps)).toBe(true);
    const final = await stack.client.workflow.getHandle(orderWorkflowId(res.json.orderId)).result();
    expect(final.status).toBe('COMPLETED');
  });
});

describe('cancel', () => {
  it('202 when accepted, 200 once cancelled, 409 with the status once finished', async () => {
    const placed = await send('POST', '/v1/orders', { body: orderBody({ payment: { token: 'tok_flaky' } }) });
    const accepted = await send('POST', `/v1/orders/${placed.json.orderId}/cancel`);
    expect(accepted.status).toBe(202);
    expect(accepted.json.cancelRequested).toBe(true);
    await stack.client.workflow.getHandle(orderWorkflowId(placed.json.orderId)).result();
    const already = await send('POST', `/v1/orders/${placed.json.orderId}/cancel`);
    expect(already.status).toBe(200);
    expect(already.json.status).toBe('CANCELLED');

    const done = await send('POST', '/v1/orders?wait=30', { body: orderBody() });
    const refused = await send('POST', `/v1/orders/${done.json.orderId}/cancel`);
    expect(refused.status).toBe(409);
    expect(problemSlug(refused)).toBe('order-not-cancellable');
    expect(refused.json.orderStatus).toBe('COMPLETED');
    expect(refused.json.detail).toMatch(/shipping has started/);

    const failed = await send('POST', '/v1/orders?wait=30', {
      body: orderBody({ payment: { token: 'tok_declined' } }),
    });
    const refusedFailed = await send('POST', `/v1/orders/${failed.json.orderId}/cancel`);
    expect(refusedFailed.status).toBe(409);
    expect(refusedFailed.json.orderStatus).toBe('FAILED');
  });
});

describe('GET /v1/orders', () => {
  it('lists newest first, filters by customer and status, and pages with an opaque cursor', async () => {
    const customerId = unique('cust-list');
    const placed: string[] = [];
    for (const token of ['tok_ok', 'tok_declined', 'tok_ok', 'tok_ok', 'tok_declined']) {
      const res = await send('POST', '/v1/orders?wait=30', {
        body: orderBody({ customerId, payment: { token } }),
      });
      expect(res.status).toBe(200);
      placed.push(res.json.orderId);
    }
    const newestFirst = [...placed].reverse();

    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const query = new URLSearchParams({ customerId, limit: '2', ...(cursor ? { cursor } : {}) });
      const page = await send('GET', `/v1/orders?${query}`);
      expect(page.status).toBe(200);
      pages.push(page.json.items.length);
      for (const item of page.json.items) {
        expect(item.customerId).toBe(customerId);
        expect(item.links.self).toBe(`/v1/orders/${item.orderId}`);
        seen.push(item.orderId);
      }
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual(newestFirst);

    const failed = await send('GET', `/v1/orders?customerId=${customerId}&status=FAILED`);
    expect(failed.json.items.map((o: { orderId: string }) => o.orderId)).toEqual([
      newestFirst[0],
      newestFirst[3],
    ]);
    expect(failed.json.items.every((o: { status: string }) => o.status === 'FAILED')).toBe(true);
    expect(failed.json.nextCursor).toBeNull();

    const completed = await send('GET', '/v1/orders?status=COMPLETED&limit=100');
    expect(completed.json.items.every((o: { status: string }) => o.status === 'COMPLETED')).toBe(true);

    // A cursor is bound to its filters and cannot be edited.
    const first = await send('GET', `/v1/orders?customerId=${customerId}&limit=1`);
    const next = String(first.json.nextCursor);
    const foreign = await send('GET', `/v1/orders?customerId=${customerId}&status=FAILED&cursor=${next}`);
    expect(foreign.status).toBe(400);
    expect(problemSlug(foreign)).toBe('invalid-cursor');
    const [payload, tag] = next.split('.');
    const edited = `${Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(String(payload), 'base64url').toString()), i: 'ord_x' }),
    ).toString('base64url')}.${tag}`;
    const tampered = await send('GET', `/v1/orders?customerId=${customerId}&cursor=${edited}`);
    expect(tampered.status).toBe(400);
    expect(problemSlug(tampered)).toBe('invalid-cursor');
  });
});
