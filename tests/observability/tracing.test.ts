/**
 * One order is one trace across every process. The real stack as separate processes (the API, one worker per
 * service, the notifications consumer; a Temporal dev server, a NATS server and a Postgres database of the test's
 * own) exports over OTLP/HTTP to a receiver in the test. For a completed and a compensated order it shows: one
 * trace id in every process, the chain from the HTTP span to each activity and its database transaction, the
 * client's `traceparent` honoured and the trace id on the answer, compensations in reverse, the failing step in
 * error, activity log lines carrying the trace id, and the events' publish and consume spans joined to it.
 * Needs a Postgres server (several processes share the database).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { seedCatalog } from '../../db/seed.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../../harness/otlp-receiver.js';
import { ManagedProcess, tsxCommand } from '../../harness/processes.js';
import {
  createThrowawayPostgres,
  TEST_POSTGRES_URL,
  type ThrowawayPostgres,
} from '../../harness/throwaway-database.js';

/** The `service.name` each process exports its spans under (its role's default). */
const SERVICE_NAME_OF = {
  api: 'order-saga-api',
  'worker-orders': 'order-saga-worker-orders',
  'worker-inventory': 'order-saga-worker-inventory',
  'worker-payments': 'order-saga-worker-payments',
  'worker-shipping': 'order-saga-worker-shipping',
  'consumer-notifications': 'order-saga-consumer-notifications',
} as const;
/** Every process of the stack. */
const PROCESSES = Object.keys(SERVICE_NAME_OF) as Array<keyof typeof SERVICE_NAME_OF>;

/** The client's own span, which the API must continue. */
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';

const address = (country: string) => ({
  name: 'Trace Tester',
  line1: '1 Span Street',
  city: 'Berlin',
  postalCode: '10115',
  country,
});

describe.skipIf(TEST_POSTGRES_URL === undefined)('one order, one trace across every process', () => {
  let receiver: OtlpReceiver;
  let database: ThrowawayPostgres;
  let devServer: DevServer;
  let nats: NatsServer;
  let natsDir: string;
  let apiUrl: string;
  const processes: ManagedProcess[] = [];
  const httpPorts = new Map<string, number>();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    database = await createThrowawayPostgres(TEST_POSTGRES_URL as string, 'tracing');
    const setup = await openDatabase({ url: database.url, poolSize: 2 });
    try {
      await migrateDatabase(setup);
      await seedCatalog(setup.db);
    } finally {
      await setup.close();
    }
    devServer = await startDevServer({ cli: inject('temporalCli'), port: await freePort() });
    natsDir = mkdtempSync(path.join(os.tmpdir(), 'tracing-nats-'));
    nats = await startNatsServer({ binary: inject('natsServerBinary'), storeDir: natsDir });
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    // Each process serves its own subgraph on its HTTP server; the API's gateway is told where.
    for (const service of [...SERVICE_NAMES, 'notifications']) httpPorts.set(service, await freePort());
    const subgraphUrls = [...httpPorts]
      .map(([service, port]) => `${service}=http://127.0.0.1:${port}/graphql/${service}`)
      .join(',');
    const env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: devServer.address,
      NATS_URL: nats.url,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      PAYLOAD_ENCRYPTION: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_SERVICE_NAME: '',
    };
    processes.push(
      new ManagedProcess({
        name: 'api',
        ...tsxCommand('api/server.ts'),
        env: { ...env, PORT: String(apiPort), GRAPH_SUBGRAPH_URLS: subgraphUrls },
      }),
      ...SERVICE_NAMES.map(
        (service) =>
          new ManagedProcess({
            name: `worker-${service}`,
            ...tsxCommand('workers/main.ts', [
              '--service',
              service,
              '--workflow-bundle',
              inject('workflowBundlePath'),
            ]),
            env: { ...env, WORKER_HTTP_PORT: String(httpPorts.get(service)), TEMPORAL_METRICS_PORT: '0' },
          }),
      ),
      new ManagedProcess({
        name: 'consumer-notifications',
        ...tsxCommand('consumers/notifications/main.ts', ['--service', 'notifications']),
        env: { ...env, CONSUMER_HTTP_PORT: String(httpPorts.get('notifications')) },
      }),
    );
    for (const proc of processes) proc.start();
    await processes[0]?.waitReady(`${apiUrl}/readyz`, 90_000);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(processes.map((proc) => proc.stop(10_000)));
    for (const proc of processes) proc.close();
    await nats?.stop();
    if (natsDir) rmSync(natsDir, { recursive: true, force: true });
    await devServer?.stop();
    await database?.drop();
    await receiver?.close();
  }, 60_000);

  /**
   * Places an order with the client's traceparent and waits for its end (the workers may still be starting when
   * the API is ready: a 202 is followed by reads until the order is terminal); returns the POST's answer.
   */
  async function place(key: string, country: string, sampled = true) {
    const res = await fetch(`${apiUrl}/v1/orders?wait=30`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key,
        traceparent: `00-${CLIENT_TRACE_ID.slice(0, 24)}${key.slice(-8)}-${CLIENT_SPAN_ID}-0${sampled ? 1 : 0}`,
      },
      body: JSON.stringify({
        customerId: 'cust-trace',
        items: [{ sku: 'MUG-RED', quantity: 1 }],
        payment: { token: 'tok_ok' },
        shippingAddress: address(country),
      }),
    });
    let body = (await res.json()) as { orderId: string; status: string };
    expect([200, 202], JSON.stringify(body)).toContain(res.status);
    const deadline = Date.now() + 120_000;
    while (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(body.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      body = (await (await fetch(`${apiUrl}/v1/orders/${body.orderId}`)).json()) as typeof body;
    }
    return { res, body };
  }

  /** Waits until the trace has a span named `name` from `service` (spans arrive in batches). */
  async function spansOf(
    traceId: string,
    until: (spans: ReceivedSpan[]) => boolean,
  ): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      if (until(spans) || Date.now() > deadline) return spans;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const has = (spans: ReceivedSpan[], service: string, name: string) =>
    spans.some((span) => span.service === service && span.name === name);

  /** The chain of parents from `span` up to the root, as `service name` strings, child first. */
  function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const chain: string[] = [];
    for (
      let at: ReceivedSpan | undefined = span;
      at;
      at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined
    ) {
      chain.push(`${at.service} ${at.name}`);
    }
    return chain;
  }

  it('a completed order: one trace from the client through the API, the saga, its activities, transactions and events', async () => {
    const { res, body } = await place('trace-ok-00000001', 'DE');
    expect(body.status).toBe('COMPLETED');
    const traceId = res.headers.get('x-trace-id') as string;
    // The client's trace continues: same trace id, and the API's span is the child of the client's span.
    expect(traceId).toBe(`${CLIENT_TRACE_ID.slice(0, 24)}00000001`);
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await spansOf(traceId, (all) =>
      has(all, SERVICE_NAME_OF['consumer-notifications'], 'process events.orders.OrderCompleted'),
    );
    // Every process of the stack has spans in this one trace.
    const services = new Set(spans.map((span) => span.service));
    for (const proc of PROCESSES) expect([...services], proc).toContain(SERVICE_NAME_OF[proc]);

    const http = spans.find((s) => s.service === 'order-saga-api' && s.name === 'POST /v1/orders');
    expect(http?.parentSpanId).toBe(CLIENT_SPAN_ID);
    expect(http?.attributes['http.route']).toBe('/v1/orders');
    expect(http?.attributes['http.response.status_code']).toBe(res.status);

    // HTTP → StartWorkflow → RunWorkflow → StartActivity → RunActivity → TRANSACTION, across three processes.
    const charge = spans.find((s) => s.name === 'RunActivity:chargePayment');
    expect(charge?.service).toBe(SERVICE_NAME_OF['worker-payments']);
    expect(charge?.attributes['order.id']).toBe(body.orderId);
    const transaction = spans.find((s) => s.name === 'TRANSACTION' && s.parentSpanId === charge?.spanId);
    expect(transaction?.attributes['db.system']).toBe('postgresql');
    expect(Number(transaction?.attributes['db.transaction.statements'])).toBeGreaterThan(1);
    expect(ancestry(spans, transaction as ReceivedSpan)).toEqual([
      'order-saga-worker-payments TRANSACTION',
      'order-saga-worker-payments RunActivity:chargePayment',
      'order-saga-worker-orders StartActivity:chargePayment',
      'order-saga-worker-orders RunWorkflow:orderSaga',
      'order-saga-api StartWorkflow:orderSaga',
      'order-saga-api POST /v1/orders',
    ]);
    for (const step of ['reserveStock', 'chargePayment', 'createShipment']) {
      expect(
        spans.filter((s) => s.name === `RunActivity:${step}`).map((s) => s.statusCode),
        step,
      ).toContain(1);
    }

    // The event: committed in the activity's transaction, published by the relay, consumed by notifications.
    const consumed = spans.find((s) => s.name === 'process events.orders.OrderCompleted') as ReceivedSpan;
    expect(consumed.attributes['messaging.system']).toBe('nats');
    expect(consumed.attributes['order.id']).toBe(body.orderId);
    const chain = ancestry(spans, consumed);
    expect(chain.slice(0, 2)).toEqual([
      'order-saga-consumer-notifications process events.orders.OrderCompleted',
      'order-saga-worker-orders publish events.orders.OrderCompleted',
    ]);
    expect(chain.at(-1)).toBe('order-saga-api POST /v1/orders');
    expect(
      spans.some((s) => s.service === SERVICE_NAME_OF['consumer-notifications'] && s.name === 'TRANSACTION'),
    ).toBe(true);

    // The API's latency histogram links to the trace: served as OpenMetrics, the POST's bucket has its exemplar.
    const metrics = await fetch(`${apiUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('application/openmetrics-text');
    const exemplar = (await metrics.text())
      .split('\n')
      .find(
        (line) =>
          line.startsWith('http_request_duration_seconds_bucket') && line.includes(`trace_id="${traceId}"`),
      );
    expect(exemplar, 'an exemplar with the order trace id').toMatch(/route="\/v1\/orders"/);

    // An activity's log line carries the trace: the payments worker logged the charge inside the span.
    const worker = processes.find((p) => p.name === 'worker-payments') as ManagedProcess;
    const logged = worker.lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.trace_id === traceId);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.some((line) => line.span_id === charge?.spanId)).toBe(true);
  }, 180_000);

  it('a compensated order: the failing step in error with its type, compensations in reverse order', async () => {
    const { res, body } = await place('trace-xx-00000002', 'XX');
    expect(body.status).toBe('FAILED');
    const traceId = res.headers.get('x-trace-id') as string;
    expect(traceId).toBe(`${CLIENT_TRACE_ID.slice(0, 24)}00000002`);
    const spans = await spansOf(traceId, (all) =>
      has(all, SERVICE_NAME_OF['consumer-notifications'], 'process events.orders.OrderFailed'),
    );
    const failed = spans.filter((s) => s.name === 'RunActivity:createShipment');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((s) => s.statusCode === 2)).toBe(true);
    expect(failed[0]?.attributes['error.type']).toBe('AddressUndeliverable');

    // Forward: reserve, then charge. Undone in reverse: the refund starts before the stock is released.
    const startOf = (name: string) => spans.find((s) => s.name === `RunActivity:${name}`)?.startNs ?? -1n;
    expect(startOf('reserveStock')).toBeLessThan(startOf('chargePayment'));
    expect(startOf('chargePayment')).toBeLessThan(startOf('refundPayment'));
    expect(startOf('refundPayment')).toBeLessThan(startOf('releaseStock'));
    expect(spans.find((s) => s.name === 'RunActivity:refundPayment')?.service).toBe(
      SERVICE_NAME_OF['worker-payments'],
    );
    expect(
      has(spans, SERVICE_NAME_OF['consumer-notifications'], 'process events.payments.PaymentRefunded'),
    ).toBe(true);
    expect(receiver.rejected).toBe(0);
  }, 180_000);

  it("a client's unsampled traceparent is followed in every process: nothing is recorded", async () => {
    const { res, body } = await place('trace-no-00000003', 'DE', false);
    expect(body.status).toBe('COMPLETED');
    expect(res.headers.get('x-trace-id')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.spans.filter((s) => s.traceId === `${CLIENT_TRACE_ID.slice(0, 24)}00000003`)).toEqual([]);
  }, 180_000);
  it('a query through the graph: one span per subgraph call, each answered by its own process in the same trace', async () => {
    const { body } = await place('trace-graph-0001', 'DE');
    expect(body.status).toBe('COMPLETED');
    const traceId = `${CLIENT_TRACE_ID.slice(0, 24)}6a6a6a6a`;
    const query = `{ order(id: "${body.orderId}") { status items { product { name } } payment { status } shipment { status } notifications { kind } } }`;
    const res = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${CLIENT_SPAN_ID}-01` },
      body: JSON.stringify({ query }),
    });
    const answer = (await res.json()) as { data: { order: { status: string; payment: { status: string } } } };
    expect(answer.data.order).toMatchObject({ status: 'COMPLETED', payment: { status: 'CHARGED' } });
    const subgraphs = {
      orders: 'worker-orders',
      inventory: 'worker-inventory',
      payments: 'worker-payments',
      shipping: 'worker-shipping',
      notifications: 'consumer-notifications',
    } as const;
    const spans = await spansOf(traceId, (all) =>
      Object.entries(subgraphs).every(([name, proc]) =>
        has(all, SERVICE_NAME_OF[proc], `POST /graphql/${name}`),
      ),
    );
    for (const [name, proc] of Object.entries(subgraphs)) {
      const served = spans.find(
        (span) => span.service === SERVICE_NAME_OF[proc] && span.name === `POST /graphql/${name}`,
      );
      expect(served, name).toBeDefined();
      // The subgraph's server span is the child of the gateway's span of that call, under the API's HTTP span.
      const chain = ancestry(spans, served as ReceivedSpan);
      expect(chain.slice(0, 2)).toEqual([
        `${SERVICE_NAME_OF[proc]} POST /graphql/${name}`,
        `${SERVICE_NAME_OF.api} graphql.subgraph ${name}`,
      ]);
      expect(chain.at(-1)).toMatch(new RegExp(`^${SERVICE_NAME_OF.api} POST /graphql`));
    }
  });
});
