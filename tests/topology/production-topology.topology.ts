/**
 * Issue 8's proof without containers: the production topology as separate OS processes (API, one worker for
 * orders, inventory and shipping, three for payments), a few hundred orders over HTTP with API keys, every payments
 * process taking work (its own /metrics and the workflow histories agree), and one payments worker stopped with
 * SIGTERM mid-run while every order still completes, charged exactly once.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OrderState, orderWorkflowId } from '../../contracts/orders.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { logMessage } from '../../harness/processes.js';
import {
  createTestDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { chargeCounts, chargedBy, ledgerTotals } from './evidence.js';
import {
  ADMIN_KEY,
  API_KEY,
  API_KEYS,
  PAYLOAD_KEYS,
  runOnce,
  startTopology,
  type Topology,
} from './topology.js';

/** How many orders the run places; TOPOLOGY_ORDERS overrides it for a bigger run. */
const ORDERS = Number(process.env.TOPOLOGY_ORDERS ?? 300);
/** Requests in flight at once, as a handful of busy clients would send them. */
const CONCURRENCY = 12;
const PAYMENTS_WORKERS = 3;

let devServer: DevServer;
let database: TestDatabase;
let topology: Topology;
let connection: Connection;
let client: Client;

async function api(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = API_KEY,
  idempotencyKey?: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${topology.apiUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

function orderBody(i: number) {
  return {
    customerId: `cust-topology-${i % 17}`,
    items: [{ sku: i % 2 === 0 ? 'MUG-RED' : 'BOOK-SAGA', quantity: 1 + (i % 3) }],
    // Every 25th order fails twice at the provider first: its retries may land on another payments process.
    payment: { token: i % 25 === 0 ? 'tok_flaky' : 'tok_ok' },
    shippingAddress: {
      name: `Buyer ${i}`,
      line1: '1 Queue St',
      city: 'Leeds',
      postalCode: 'LS1',
      country: 'GB',
    },
  };
}

describe.skipIf(TEST_POSTGRES_URL === undefined)('production topology as separate processes', () => {
  beforeAll(async () => {
    devServer = await startDevServer({ cli: inject('temporalCli'), port: await freePort() });
    database = await createTestDatabase('postgres', { migrate: false });
    const env = { DATABASE_URL: database.url as string, NODE_ENV: 'production', API_KEYS };
    // The image's one-shot roles, as compose and the Kubernetes Job run them.
    await runOnce('migrate', [], env);
    await runOnce('seed', [], env);
    topology = await startTopology({
      temporalAddress: devServer.address,
      databaseUrl: database.url as string,
      paymentsWorkers: PAYMENTS_WORKERS,
      // A little provider latency keeps charges in flight, so the SIGTERM below lands on running work. Production
      // refuses fault injection, so the payments workers alone run as NODE_ENV=test, versioned like the rest.
      serviceEnv: { payments: { NODE_ENV: 'test', WORKER_VERSIONING: 'true', FAULT_LATENCY_MS: '40' } },
    });
    connection = await Connection.connect({ address: devServer.address });
    client = new Client({
      connection,
      dataConverter: loadPayloadProtection(loadConfig({ PAYLOAD_KEYS })).dataConverter,
    });
  }, 240_000);

  afterAll(async () => {
    await topology?.stop();
    await connection?.close();
    await database?.close();
    await devServer?.stop();
  }, 120_000);

  it('spreads payments over three workers and completes every order when one is stopped', async () => {
    expect((await api('POST', '/v1/orders', orderBody(0), null)).status).toBe(401);
    for (const sku of ['MUG-RED', 'BOOK-SAGA']) {
      const body = { name: sku, priceCents: 1500, available: 1_000_000 };
      expect((await api('PUT', `/v1/products/${sku}`, body, API_KEY)).status).toBe(403);
      // The seed created it: changing it needs If-Match (`*`: whatever version the seed left).
      const overwrite = { 'if-match': '*' };
      const put = await api('PUT', `/v1/products/${sku}`, body, ADMIN_KEY, undefined, overwrite);
      expect(put.status).toBe(200);
    }
    const payments = topology.workers.filter((w) => w.service === 'payments');
    const victim = payments[PAYMENTS_WORKERS - 1];
    if (!victim) throw new Error('no payments worker');
    const charges = (name: string) =>
      topology.workers.find((w) => w.name === name)?.lines.filter((l) => logMessage(l) === 'charge payment')
        .length ?? 0;

    const orderIds: string[] = [];
    let next = 0;
    const place = async () => {
      for (let i = next++; i < ORDERS; i = next++) {
        const placed = await api('POST', '/v1/orders', orderBody(i), API_KEY, `${topology.buildId}-${i}`);
        expect(placed.status, JSON.stringify(placed.json)).toBe(202);
        orderIds.push(placed.json.orderId);
      }
    };
    // Mid-run (a third of the orders charged, the victim among the chargers): record every payments process's
    // /metrics, then SIGTERM the victim while the rest of the backlog is still waiting on the payments queue.
    const stopMidRun = async () => {
      const total = () => payments.reduce((sum, w) => sum + charges(w.name), 0);
      const deadline = Date.now() + 300_000;
      while (!(total() >= ORDERS / 3 && charges(victim.name) >= 5)) {
        if (Date.now() > deadline) throw new Error(`mid-run point never reached (${total()} charges)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const counts = await chargeCounts(payments);
      return { counts, chargedAtStop: total(), exitCode: await victim.stop(30_000) };
    };
    const started = Date.now();
    const [stop] = await Promise.all([stopMidRun(), ...Array.from({ length: CONCURRENCY }, place)]);
    const beforeStop = stop.counts;
    expect(stop.exitCode, `victim log:\n${victim.lines.slice(-5).join('\n')}`).toBe(0);
    expect(victim.lines.some((l) => logMessage(l) === 'workers stopped')).toBe(true);

    const results = await Promise.all(
      orderIds.map((id) => client.workflow.getHandle(orderWorkflowId(id)).result() as Promise<OrderState>),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(results.filter((r) => r.status !== 'COMPLETED')).toEqual([]);
    const sample = await api('GET', `/v1/orders/${orderIds[orderIds.length - 1]}`);
    expect(sample.json.status).toBe('COMPLETED');

    // Exactly one charge per order in the ledger, whichever process ran it and however often it was retried.
    expect(await ledgerTotals(database)).toEqual({ charges: ORDERS, orders: ORDERS });

    // Who ran each charge, from the history (the worker identity on ActivityTaskStarted), and from /metrics.
    const byHistory = await chargedBy(client, orderIds, payments);
    const survivors = await chargeCounts(payments.filter((w) => w !== victim));
    const byMetrics = { ...survivors, [victim.name]: beforeStop[victim.name] ?? 0 };
    console.log(
      `\n${ORDERS} orders in ${seconds.toFixed(1)} s; ${victim.name} got SIGTERM when ${stop.chargedAtStop} orders were charged\n` +
        'worker       at SIGTERM (/metrics)  charges (history)  charges (/metrics)  "charge payment" log lines\n' +
        payments
          .map(
            (w) =>
              `${w.name.padEnd(12)} ${String(beforeStop[w.name] ?? 0).padStart(21)} ` +
              `${String(byHistory[w.name] ?? 0).padStart(18)} ` +
              `${String(byMetrics[w.name] ?? 0).padStart(19)} ${String(charges(w.name)).padStart(27)}`,
          )
          .join('\n'),
    );
    for (const worker of payments) {
      expect(byHistory[worker.name], worker.name).toBeGreaterThan(0);
      expect(byMetrics[worker.name], worker.name).toBeGreaterThan(0);
    }
    expect(Object.values(byHistory).reduce((a, b) => a + b, 0)).toBe(ORDERS);
    // The survivors' own counters agree with the histories (the victim's was read before it stopped).
    for (const worker of payments.filter((w) => w !== victim)) {
      expect(byMetrics[worker.name]).toBeGreaterThanOrEqual(byHistory[worker.name] ?? 0);
    }
  }, 600_000);
});
