/**
 * `npm start`'s own stack (bin/dev-stack.ts, run as a process) against a Temporal server that goes away: the local
 * API answers as production's does — 503 + Retry-After within the RPC deadline, /readyz 503 — the process stays
 * up (its workers wait for the server), and orders complete again once Temporal is back, without a restart.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { type ManagedProcess, startProcess, tsxCommand } from '../../harness/processes.js';
import { type CallOptions, call, eventually, orderBody, problemSlug } from '../api/http.js';

const RETRY_AFTER_SECONDS = 3;
const TEMPORAL_TIMEOUT_MS = 1_500;

const dir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-outage-'));
let temporalPort: number;
let devServer: DevServer | undefined;
let stack: ManagedProcess;
let baseUrl: string;

const startTemporal = () =>
  startDevServer({
    cli: inject('temporalCli'),
    port: temporalPort,
    dbFile: path.join(dir, 'temporal.sqlite'),
  });

beforeAll(async () => {
  temporalPort = await freePort();
  devServer = await startTemporal();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // What a developer's shell gives `npm start`, pointed at this test's Temporal and a throw-away PGlite.
  stack = startProcess({
    name: 'dev-stack',
    ...tsxCommand('bin/dev-stack.ts'),
    cleanEnv: true,
    env: {
      HOME: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      TEMPORAL_ADDRESS: devServer.address,
      // The run's NATS server: the stack's own would take 4222 and the project's .data/nats.
      NATS_URL: inject('natsUrl'),
      TEMPORAL_METRICS_PORT: '0',
      PGLITE_DIR: path.join(dir, 'pglite'),
      PAYLOAD_KEY_FILE: path.join(dir, 'payload-keys'),
      API_TEMPORAL_TIMEOUT_MS: String(TEMPORAL_TIMEOUT_MS),
      API_RETRY_AFTER_SECONDS: String(RETRY_AFTER_SECONDS),
      LOG_LEVEL: 'warn',
    },
  });
  await stack.waitReady(`${baseUrl}/readyz`, 90_000);
}, 150_000);

afterAll(async () => {
  await stack?.stop(20_000);
  stack?.close();
  await devServer?.stop();
});

const send = (method: string, urlPath: string, options?: CallOptions) =>
  call(baseUrl, method, urlPath, { key: null, ...options });

it('answers 503 + Retry-After while Temporal is down, stays up, and recovers when it is back', async () => {
  const before = await send('POST', '/v1/orders?wait=30', {
    body: orderBody({ customerId: 'cust-npm-start' }),
  });
  expect(before.status).toBe(200);
  expect(before.json.status).toBe('COMPLETED');

  await devServer?.stop();
  devServer = undefined;

  const place = await send('POST', '/v1/orders', { body: orderBody() });
  expect(place.status).toBe(503);
  expect(problemSlug(place)).toBe('temporal-unavailable');
  expect(place.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  // The configured deadline (API_TEMPORAL_TIMEOUT_MS) bounds it: the lazy client of the production assembly.
  expect(place.ms).toBeLessThan(TEMPORAL_TIMEOUT_MS + 5_000);
  const ready = await send('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
  expect(ready.json.checks.temporal).not.toBe('ok');
  // A closed order is still answered, from the records.
  expect((await send('GET', `/v1/orders/${before.json.orderId}`)).status).toBe(200);

  // Some seconds down: the workers keep retrying their polls instead of taking the process down.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(stack.running, stack.tail()).toBe(true);

  devServer = await startTemporal();
  const after = await eventually(
    () => send('POST', '/v1/orders?wait=30', { body: orderBody({ customerId: 'cust-npm-start' }) }),
    (res) => res.status !== 503,
    60_000,
  );
  expect(after.status).toBe(200);
  expect(after.json.status).toBe('COMPLETED');
  expect((await send('GET', '/readyz')).status).toBe(200);
  expect(stack.running).toBe(true);
}, 150_000);
