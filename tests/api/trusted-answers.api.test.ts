/**
 * Answers a client can trust whatever is down, over HTTP against the real stack: closed orders read from the orders
 * service's records (no worker, no history needed), a POST whose saga started is never a 5xx, totals past 32 bits,
 * a compensation that fails for good, a step whose tombstone won, and orders scoped to the client that placed them.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderIdFor } from '../../api/orders/idempotency.js';
import { orderWorkflowId } from '../../contracts/orders.js';
import { products, reservations } from '../../db/schema/inventory.js';
import { ledger } from '../../db/schema/payments.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { resolveCompensationsUpdate } from '../../workflows/definitions.js';
import {
  ADMIN_KEY,
  AUTH_ENV,
  type CallOptions,
  CLIENT_ID,
  call,
  OTHER_CLIENT_KEY,
  orderBody,
  problemSlug,
} from './http.js';

/** A second key of the default client, as during a key rotation. */
const ROTATED_KEY = 'test-client-key-rotated';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    env: { ...AUTH_ENV, API_KEYS: `${AUTH_ENV.API_KEYS},${CLIENT_ID}:${ROTATED_KEY}` },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const send = (method: string, path: string, options?: CallOptions) =>
  call(stack.baseUrl, method, path, options);
const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Places an order and waits for it to end; returns its final view. */
async function completedOrder(body = orderBody()) {
  const placed = await send('POST', '/v1/orders?wait=20', { body });
  expect(placed.status).toBe(200);
  return placed.json;
}

/** Polls the order until `done` holds for its view. */
async function until(orderId: string, done: (order: { status: string }) => boolean, key?: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const read = await send('GET', `/v1/orders/${orderId}`, key ? { key } : {});
    if (read.status === 200 && done(read.json)) return read.json;
    if (Date.now() > deadline) throw new Error(`order ${orderId} never got there: ${read.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runsOf(orderId: string): Promise<number> {
  let count = 0;
  for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(orderId)}'` })) {
    count += 1;
  }
  return count;
}

/** The API's gauge of orders waiting for an operator. */
async function awaitingOperator(): Promise<number> {
  const text = (await send('GET', '/metrics', { key: null })).text;
  const line = text.split('\n').find((l) => l.startsWith('saga_orders_awaiting_operator '));
  return Number(line?.split(' ')[1]);
}

const chargesOf = async (orderId: string) =>
  (await stack.database.db.select().from(ledger).where(eq(ledger.orderId, orderId))).filter(
    (entry) => entry.kind === 'CHARGE',
  );

describe('closed orders are read from the records', () => {
  it('with the orders worker stopped: read 200 exactly as it ended, cancel 409', async () => {
    const done = await completedOrder();
    await stack.stopWorker('orders');
    try {
      const read = await send('GET', `/v1/orders/${done.orderId}`);
      expect(read.status).toBe(200);
      expect(read.json).toEqual(done);
      expect(read.json.stale).toBeUndefined();
      expect(read.json.steps.map((s: { status: string }) => s.status)).toEqual([
        'SUCCEEDED',
        'SUCCEEDED',
        'SUCCEEDED',
        'SUCCEEDED',
      ]);
      const cancel = await send('POST', `/v1/orders/${done.orderId}/cancel`);
      expect(cancel.status).toBe(409);
      expect(problemSlug(cancel)).toBe('order-not-cancellable');
    } finally {
      await stack.startWorker('orders');
    }
  });

  it('after Temporal deleted its history (as retention does): still read, 409 on cancel, replays answered', async () => {
    const key = { 'idempotency-key': unique('retained') };
    const placed = await send('POST', '/v1/orders?wait=20', { body: orderBody(), headers: key });
    expect(placed.status).toBe(200);
    const done = placed.json;
    const handle = stack.client.workflow.getHandle(orderWorkflowId(done.orderId));
    await stack.client.workflowService.deleteWorkflowExecution({
      namespace: stack.client.options.namespace,
      workflowExecution: { workflowId: handle.workflowId },
    });
    // The dev server deletes asynchronously: wait until Temporal no longer knows the workflow.
    const deadline = Date.now() + 150_000;
    while (
      await handle.describe().then(
        () => true,
        () => false,
      )
    ) {
      if (Date.now() > deadline) throw new Error('the dev server never deleted the history');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const read = await send('GET', `/v1/orders/${done.orderId}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(done);
    expect((await send('POST', `/v1/orders/${done.orderId}/cancel`)).status).toBe(409);
    // A retry of the POST is matched against the order's row: the same order, never a second saga or a 422.
    const replay = await send('POST', '/v1/orders?wait=5', { body: orderBody(), headers: key });
    expect(replay.status).toBe(200);
    expect(replay.json).toEqual(done);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const otherBody = orderBody({ items: [{ sku: 'MUG-RED', quantity: 2 }] });
    const reused = await send('POST', '/v1/orders', { body: otherBody, headers: key });
    expect(problemSlug(reused)).toBe('idempotency-key-reused');
    const listed = await send('GET', `/v1/orders?customerId=${done.customerId}&limit=100`);
    expect(listed.json.items.map((o: { orderId: string }) => o.orderId)).toContain(done.orderId);
  }, 180_000);
});

describe('a POST whose saga started is never a 5xx', () => {
  it('with the orders worker stopped: 202 + Location, readable, and later completed exactly once', async () => {
    await stack.stopWorker('orders');
    let orderId: string;
    try {
      const placed = await send('POST', '/v1/orders?wait=2', { body: orderBody() });
      expect(placed.status).toBe(202);
      orderId = placed.json.orderId;
      expect(placed.headers.get('location')).toBe(`/v1/orders/${orderId}`);
      expect(placed.json.status).toBe('PENDING');

      // Nothing recorded and no worker to ask: the accepted view, marked stale.
      const read = await send('GET', `/v1/orders/${orderId}`);
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ orderId, status: 'PENDING', stale: true, customerId: 'cust-api' });
    } finally {
      await stack.startWorker('orders');
    }
    const final = await until(orderId, (order) => order.status === 'COMPLETED');
    expect(final.stale).toBeUndefined();
    expect(await chargesOf(orderId)).toHaveLength(1);
    expect(await runsOf(orderId)).toBe(1);
  });

  it('a cancel no worker can take is 503 + Retry-After; retried once the worker is back, it is one cancel', async () => {
    await stack.stopWorker('orders');
    let orderId: string;
    try {
      orderId = (await send('POST', '/v1/orders', { body: orderBody() })).json.orderId;
      const cancel = await send('POST', `/v1/orders/${orderId}/cancel`);
      expect(cancel.status).toBe(503);
      expect(problemSlug(cancel)).toBe('order-unavailable');
      expect(cancel.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await stack.startWorker('orders');
    }
    // Temporal kept the cancel: the client's retry finds it taken, and nothing was charged.
    const final = await until(orderId, (order) => order.status === 'CANCELLED');
    const retried = await send('POST', `/v1/orders/${orderId}/cancel`);
    expect(retried.status).toBe(200);
    expect(retried.json.status).toBe('CANCELLED');
    expect(final.payment.status).toBe('NONE');
    expect(await chargesOf(orderId)).toHaveLength(0);
  });

  it('a 200 always carries a terminal status', async () => {
    const placed = await send('POST', '/v1/orders?wait=20', {
      body: orderBody({ payment: { token: 'tok_declined' } }),
    });
    expect(placed.status).toBe(200);
    expect(placed.json.status).toBe('FAILED');
  });
});

describe('money past 32 bits', () => {
  it('an order of 50 lines x 1000 units at 1e8 cents completes with its exact 5e12-cent total and charge', async () => {
    const sku = unique('BIG').toUpperCase();
    await stack.database.db
      .insert(products)
      .values({ sku, name: 'Big', priceCents: 100_000_000, available: 60_000 });
    const items = Array.from({ length: 50 }, () => ({ sku, quantity: 1000 }));
    const done = await completedOrder(orderBody({ items }));
    expect(done.status).toBe('COMPLETED');
    expect(done.totalCents).toBe(5_000_000_000_000);
    expect(done.payment).toEqual({ status: 'CHARGED', amountCents: 5_000_000_000_000 });
    expect((await chargesOf(done.orderId))[0]?.amountCents).toBe(5_000_000_000_000);
    const listed = await send('GET', '/v1/orders?status=COMPLETED&limit=100');
    expect(listed.json.items.find((o: { orderId: string }) => o.orderId === done.orderId)?.totalCents).toBe(
      5_000_000_000_000,
    );
  });
});

describe('a compensation that fails for good', () => {
  it('the others still run; the order waits in COMPENSATION_FAILED until an operator resolves it', async () => {
    const placed = await send('POST', '/v1/orders', {
      body: orderBody({
        payment: { token: 'tok_refund_rejected' },
        shippingAddress: { ...orderBody().shippingAddress, country: 'XX' },
      }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = placed.json;
    const stuck = await until(orderId, (order) => order.status === 'COMPENSATION_FAILED');
    const stepStatus = (name: string) => stuck.steps.find((s: { name: string }) => s.name === name)?.status;
    expect(stepStatus('chargePayment')).toBe('COMPENSATION_FAILED');
    // The release after the failed refund ran: nothing of the order's stock is held.
    expect(stepStatus('reserveStock')).toBe('COMPENSATED');
    const [reservation] = await stack.database.db
      .select()
      .from(reservations)
      .where(eq(reservations.orderId, orderId));
    expect(reservation?.status).toBe('RELEASED');
    const listed = await send('GET', '/v1/orders?status=COMPENSATION_FAILED&limit=100');
    expect(listed.json.items.map((o: { orderId: string }) => o.orderId)).toContain(orderId);
    expect((await send('POST', `/v1/orders/${orderId}/cancel`)).status).toBe(409);
    // Operators see it in the metric their alert watches.
    expect(await awaitingOperator()).toBe(1);

    await stack.client.workflow
      .getHandle(orderWorkflowId(orderId))
      .executeUpdate(resolveCompensationsUpdate, { args: [{ note: 'refunded by hand, ticket OPS-7' }] });
    const ended = await until(orderId, (order) => order.status === 'FAILED');
    expect(ended.failureCode).toBe('AddressUndeliverable');
    expect(await awaitingOperator()).toBe(0);
    expect(ended.steps.find((s: { name: string }) => s.name === 'chargePayment')).toMatchObject({
      status: 'COMPENSATED',
      error: 'resolved by an operator: refunded by hand, ticket OPS-7',
    });
  });
});

describe('a step whose tombstone won', () => {
  it('a release recorded before the reserve ends the order FAILED (StepVoided) without charging', async () => {
    const key = unique('tombstone');
    const orderId = orderIdFor(CLIENT_ID, key);
    // As if a compensation had already run for this order id: the reserve must take nothing, and the saga stop.
    await stack.database.db.insert(reservations).values({ orderId, status: 'RELEASED' });
    const placed = await send('POST', '/v1/orders?wait=20', {
      body: orderBody(),
      headers: { 'idempotency-key': key },
    });
    expect(placed.status).toBe(200);
    expect(placed.json).toMatchObject({ orderId, status: 'FAILED', failureCode: 'StepVoided' });
    expect(placed.json.payment.status).toBe('NONE');
    expect(await chargesOf(orderId)).toHaveLength(0);
  });
});

describe('tenancy', () => {
  it("another client's key gets 404 and never sees the order; an admin sees it", async () => {
    const customerId = unique('cust-t');
    const mine = await send('POST', '/v1/orders', { body: orderBody({ customerId }) });
    const { orderId } = mine.json;
    const theirs = await send('GET', `/v1/orders/${orderId}`, { key: OTHER_CLIENT_KEY });
    expect(theirs.status).toBe(404);
    expect(problemSlug(theirs)).toBe('not-found');
    expect((await send('POST', `/v1/orders/${orderId}/cancel`, { key: OTHER_CLIENT_KEY })).status).toBe(404);
    const theirList = await send('GET', '/v1/orders?limit=100', { key: OTHER_CLIENT_KEY });
    expect(theirList.json.items.map((o: { orderId: string }) => o.orderId)).not.toContain(orderId);
    const byCustomer = await send('GET', `/v1/orders?customerId=${customerId}`, { key: OTHER_CLIENT_KEY });
    expect(byCustomer.json.items).toEqual([]);
    await until(orderId, (order) => order.status === 'COMPLETED');
    // Closed, read from the records: still the owner's only.
    expect((await send('GET', `/v1/orders/${orderId}`, { key: OTHER_CLIENT_KEY })).status).toBe(404);
    expect((await send('GET', `/v1/orders/${orderId}`, { key: ADMIN_KEY })).status).toBe(200);
    const adminList = await send('GET', '/v1/orders?limit=100', { key: ADMIN_KEY });
    expect(adminList.json.items.map((o: { orderId: string }) => o.orderId)).toContain(orderId);
  });

  it('a rotated key keeps the idempotency scope: a retry with the new key is the same order', async () => {
    const key = { 'idempotency-key': unique('rotate') };
    const first = await send('POST', '/v1/orders', { body: orderBody(), headers: key });
    const retry = await send('POST', '/v1/orders', { body: orderBody(), headers: key, key: ROTATED_KEY });
    expect(retry.status).toBe(202);
    expect(retry.json.orderId).toBe(first.json.orderId);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // The same key string from another client is another order.
    const other = await send('POST', '/v1/orders', {
      body: orderBody(),
      headers: key,
      key: OTHER_CLIENT_KEY,
    });
    expect(other.json.orderId).not.toBe(first.json.orderId);
  });
});
