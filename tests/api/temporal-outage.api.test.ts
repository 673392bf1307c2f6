/**
 * A Temporal outage over HTTP: a file-backed dev server is stopped and started again on the same port while the same
 * API keeps running. While it is down, requests that need Temporal answer 503 + Retry-After within seconds and
 * /readyz is 503; catalog, listing and closed orders (database only) keep working; afterwards everything works
 * without a restart.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { type CallOptions, call, eventually, orderBody, problemSlug } from './http.js';

const TEMPORAL_TIMEOUT_MS = 1_500;
const RETRY_AFTER_SECONDS = 2;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    temporalDbFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'outage-')), 'temporal.sqlite'),
    apiSettings: { temporalTimeoutMs: TEMPORAL_TIMEOUT_MS, retryAfterSeconds: RETRY_AFTER_SECONDS },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const send = (method: string, path: string, options?: CallOptions) =>
  call(stack.baseUrl, method, path, options);

it('answers 503 + Retry-After while Temporal is down and recovers when it is back', async () => {
  const before = await send('POST', '/v1/orders?wait=30', { body: orderBody({ customerId: 'cust-outage' }) });
  expect(before.status).toBe(200);
  expect(before.json.status).toBe('COMPLETED');

  await stack.stopTemporal();

  const place = await send('POST', '/v1/orders', { body: orderBody() });
  expect(place.status).toBe(503);
  expect(problemSlug(place)).toBe('temporal-unavailable');
  expect(place.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  // Bounded by the RPC deadline (plus one retry backoff), not by gRPC's own retries.
  expect(place.ms).toBeLessThan(TEMPORAL_TIMEOUT_MS + 5_000);
  // The order it would have been, so a client without an Idempotency-Key can look before placing it again.
  expect(place.json.orderId).toMatch(/^ord_[0-9a-f]{32}$/);
  expect(place.headers.get('location')).toBe(`/v1/orders/${place.json.orderId}`);

  // A closed order is read from the orders service's records: Temporal is not needed to answer.
  const read = await send('GET', `/v1/orders/${before.json.orderId}`);
  expect(read.status).toBe(200);
  expect(read.json).toEqual(before.json);
  const cancel = await send('POST', `/v1/orders/${before.json.orderId}/cancel`);
  expect(cancel.status).toBe(409);

  const ready = await send('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  expect(ready.json.checks.database).toBe('ok');
  expect(ready.json.checks.temporal).not.toBe('ok');

  // The database-backed routes do not need Temporal.
  expect((await send('GET', '/v1/products')).status).toBe(200);
  const listed = await send('GET', '/v1/orders?customerId=cust-outage');
  expect(listed.status).toBe(200);
  expect(listed.json.items.map((o: { orderId: string }) => o.orderId)).toEqual([before.json.orderId]);

  await stack.startTemporal();

  const readyAgain = await eventually(
    () => send('GET', '/readyz'),
    (res) => res.status === 200,
    20_000,
  );
  expect(readyAgain.status).toBe(200);
  const after = await eventually(
    () => send('POST', '/v1/orders?wait=30', { body: orderBody({ customerId: 'cust-outage' }) }),
    (res) => res.status !== 503,
    20_000,
  );
  expect(after.status).toBe(200);
  expect(after.json.status).toBe('COMPLETED');
  // The start that got no answer never reached the stopped server: its Location is a clean 404, not an order.
  expect((await send('GET', place.headers.get('location') as string)).status).toBe(404);
  // The order from before the outage survived in the file-backed server.
  const old = await send('GET', `/v1/orders/${before.json.orderId}`);
  expect(old.status).toBe(200);
  expect(old.json.status).toBe('COMPLETED');
});

it('starts while Temporal is down: a lazily-connecting API answers 503, not a crash', async () => {
  const { createApp } = await import('../../api/app.js');
  const { createLazyTemporalClient } = await import('../../api/temporal/connection.js');
  const { createLogger } = await import('../../core/logger.js');
  // Nothing listens on port 1: the client is created without any round trip.
  const temporal = createLazyTemporalClient(
    { address: '127.0.0.1:1', namespace: 'default', tls: null, apiKey: undefined },
    stack.protection.dataConverter,
  );
  const app = createApp({
    temporal: temporal.client,
    db: stack.database.db,
    pingDatabase: () => stack.database.ping(),
    auth: { enabled: false, apiKeys: [], adminKeys: [] },
    logger: createLogger('test', 'silent'),
    settings: { temporalTimeoutMs: 500 },
  });
  try {
    const res = await app.request('/v1/orders/ord_00000000000000000000000000000000');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
  } finally {
    await temporal.close();
  }
});
