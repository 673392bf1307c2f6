/**
 * `npm run bench:graph [-- --quick] [--orders N] [--page P] [--reads R] [--concurrency C]`: one page of the orders
 * overview read through the federated graph (`POST /graphql`, graph/operations/OrdersOverview.graphql) against the
 * same information through REST (the listing, then each order's view and notifications, and the catalog: 2P + 2
 * requests). The system runs as separate processes: a Temporal dev server, a NATS server, a fresh Postgres
 * database, one worker process per service and the notifications consumer (each serving its subgraph on its own
 * HTTP port) and the API with its gateway pointed at them (GRAPH_SUBGRAPH_URLS). ORDERS orders are placed and
 * finished first, every event published and notified; then R reads per protocol, closed loop at concurrency C, in
 * two passes each (GraphQL, REST, REST, GraphQL, so a drift of the machine weighs on both alike). CPU per read is
 * each process's, from /proc. Prints the tables and writes them to `.data/reports/bench/graph.md`; asserts nothing
 * about time. Fails on a GraphQL response with errors, a REST answer that is not 2xx, or a gateway that did not
 * call each subgraph exactly once per page.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { PROJECT_ROOT } from '../../core/config.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { persistedOperations } from '../../graph/operations.js';
import { SUBGRAPH_NAMES, type SubgraphName, subgraphPath } from '../../graph/subgraphs.js';
import { startDevServer } from '../../harness/dev-server.js';
import { requireNatsServer, requireTemporalCli } from '../../harness/dev-tools.mjs';
import { freePort } from '../../harness/free-port.js';
import { startNatsServer } from '../../harness/nats-server.js';
import { cpuSeconds, cpuSecondsOfCommand } from '../../harness/proc-stats.js';
import { ManagedProcess, supervisedSpec, tsxCommand } from '../../harness/processes.js';
import { sumSamples } from '../../harness/prometheus-text.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import { BENCH_ORDER } from './direct.js';
import { waitForDrain } from './events.js';
import { closedLoop } from './load.js';
import { percentile } from './stats.js';

const { values: args } = parseArgs({
  options: {
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    out: { type: 'string', default: path.join(PROJECT_ROOT, '.data', 'reports', 'bench') },
    quick: { type: 'boolean', default: false },
    orders: { type: 'string' },
    page: { type: 'string', default: '20' },
    reads: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
  },
});
const ORDERS = Number(args.orders ?? (args.quick ? 40 : 200));
const PAGE = Number(args.page);
const READS = Number(args.reads ?? (args.quick ? 60 : 300));
const CONCURRENCY = Number(args.concurrency);
/** REST requests of one read in flight at once: what a browser opens to one host. */
const REST_PARALLEL = 6;
/** Reads of each protocol before anything is measured (JIT, pools, the gateway's plan cache). */
const WARM_UP_READS = 20;
const log = (line: string) =>
  console.error(`[bench:graph ${new Date().toISOString().slice(11, 19)}] ${line}`);

const OVERVIEW = persistedOperations().get('OrdersOverview');
if (!OVERVIEW) throw new Error('graph/operations/OrdersOverview.graphql is missing');

/** One order of the page as either protocol tells it, for checking that both say the same. */
interface OverviewOrder {
  id: string;
  status: string;
  totalCents: number;
  items: { sku: string; quantity: number; unitPriceCents: number; product: string }[];
  payment: string;
  shipment: string;
  notifications: string[];
}

/** What one protocol measured over its passes. */
interface Tally {
  latencies: number[];
  seconds: number;
  requests: number;
  /** CPU seconds by process name (`postgres`: every backend of the server, whoever it served). */
  cpu: Map<string, number>;
}

interface Row {
  name: string;
  readsPerSecond: number;
  p50: number;
  p99: number;
  requestsPerRead: number;
  apiCpuMs: number;
  allCpuMs: number;
  postgresCpuMs: number;
  /** CPU ms per read of each process, `postgres` included. */
  byProcess: Map<string, number>;
}

const product = (p: { name: string; priceCents: number; available: number } | null | undefined) =>
  p ? `${p.name}/${p.priceCents}/${p.available}` : 'none';

/** The API's answers to a client, counting its requests; throws on anything but 2xx. */
class Client {
  requests = 0;

  constructor(private readonly baseUrl: string) {}

  async call<T>(pathAndQuery: string, init?: RequestInit): Promise<T> {
    this.requests += 1;
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, init);
    if (!response.ok) {
      const body = (await response.text()).slice(0, 300);
      throw new Error(`${init?.method ?? 'GET'} ${pathAndQuery} answered ${response.status}: ${body}`);
    }
    return (await response.json()) as T;
  }

  /** The page through the graph: one request. */
  async graphPage(): Promise<OverviewOrder[]> {
    type Node = {
      id: string;
      status: string;
      totalCents: number;
      items: {
        sku: string;
        quantity: number;
        unitPriceCents: number;
        product: { name: string; priceCents: number; available: number } | null;
      }[];
      payment: { status: string; amountCents: number } | null;
      shipment: { status: string; trackingId: string | null } | null;
      notifications: { kind: string }[] | null;
    };
    const body = await this.call<{ data?: { orders: { nodes: Node[] } }; errors?: unknown[] }>('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({
        query: OVERVIEW?.document,
        operationName: 'OrdersOverview',
        variables: { first: PAGE },
      }),
    });
    if (body.errors?.length || !body.data) {
      throw new Error(`GraphQL answered errors: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
    }
    return body.data.orders.nodes.map((node) => ({
      id: node.id,
      status: node.status,
      totalCents: node.totalCents,
      items: node.items.map((item) => ({ ...item, product: product(item.product) })),
      payment: node.payment ? `${node.payment.status}/${node.payment.amountCents}` : 'none',
      shipment: node.shipment ? `${node.shipment.status}/${node.shipment.trackingId}` : 'none',
      notifications: (node.notifications ?? []).map((n) => n.kind),
    }));
  }

  /** The page through REST: the listing and the catalog, then each order's view and notifications (2P + 2). */
  async restPage(): Promise<OverviewOrder[]> {
    type Line = { sku: string; quantity: number; unitPriceCents: number };
    type Summary = { orderId: string; status: string; totalCents: number; items: Line[] };
    type View = {
      payment: { status: string; amountCents: number };
      shipment: { status: string; trackingId: string | null };
    };
    type Notified = { items: { kind: string }[] };
    type Product = { sku: string; name: string; priceCents: number; available: number };
    const [listing, catalog] = await Promise.all([
      this.call<{ items: Summary[] }>(`/v1/orders?limit=${PAGE}`),
      this.call<{ items: Product[] }>('/v1/products'),
    ]);
    const products = new Map(catalog.items.map((p) => [p.sku, p]));
    const calls = listing.items.flatMap((order) => [
      () => this.call<View>(`/v1/orders/${encodeURIComponent(order.orderId)}`),
      () => this.call<Notified>(`/v1/orders/${encodeURIComponent(order.orderId)}/notifications`),
    ]);
    const answers = await boundedAll<View | Notified>(REST_PARALLEL, calls);
    return listing.items.map((order, i) => {
      const view = answers[2 * i] as View;
      const notified = answers[2 * i + 1] as Notified;
      return {
        id: order.orderId,
        status: order.status,
        totalCents: order.totalCents,
        items: order.items.map((item) => ({ ...item, product: product(products.get(item.sku)) })),
        payment: `${view.payment.status}/${view.payment.amountCents}`,
        shipment: `${view.shipment.status}/${view.shipment.trackingId}`,
        notifications: notified.items.map((n) => n.kind),
      };
    });
  }
}

/** Runs `tasks` with at most `limit` in flight; their results in the tasks' order. */
async function boundedAll<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await (tasks[i] as () => Promise<T>)();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

/** Where the two protocols' pages disagree (they read the same business data from different owners). */
function differences(graph: OverviewOrder[], rest: OverviewOrder[]): string[] {
  const found: string[] = [];
  if (graph.length !== rest.length) found.push(`GraphQL has ${graph.length} orders, REST ${rest.length}`);
  graph.forEach((order, i) => {
    const a = JSON.stringify(order);
    const b = JSON.stringify(rest[i]);
    if (a !== b) found.push(`order ${i}: GraphQL ${a}\n           REST    ${b}`);
  });
  return found;
}

async function main(): Promise<void> {
  const began = performance.now();
  const runDir = path.join(PROJECT_ROOT, '.data', 'bench', `graph-${Date.now()}`);
  mkdirSync(runDir, { recursive: true });
  const bundle = path.join(runDir, 'workflows.js');
  await writeWorkflowBundle(bundle, { quiet: true });
  const devServer = await startDevServer({ cli: requireTemporalCli(), port: await freePort() });
  const nats = await startNatsServer({ binary: requireNatsServer(), storeDir: path.join(runDir, 'nats') });
  const database = await createThrowawayPostgres(args['database-url'] as string, 'bench_graph');
  let report: string;
  try {
    const setup = await openDatabase({ url: database.url, poolSize: 2 });
    await migrateDatabase(setup);
    await upsertProduct(setup.db, {
      sku: 'B-1',
      name: 'Bench item',
      priceCents: 1000,
      available: 100_000_000,
    });
    await setup.close();
    report = await run({ bundle, runDir, databaseUrl: database.url, devServer, nats });
  } finally {
    await nats.stop();
    rmSync(nats.storeDir, { recursive: true, force: true });
    await devServer.stop();
    await database.drop();
  }
  console.log(report);
  mkdirSync(args.out as string, { recursive: true });
  writeFileSync(path.join(args.out as string, 'graph.md'), `${report}\n`);
  log(`done in ${((performance.now() - began) / 1000).toFixed(0)} s`);
}

async function run(system: {
  bundle: string;
  runDir: string;
  databaseUrl: string;
  devServer: Awaited<ReturnType<typeof startDevServer>>;
  nats: Awaited<ReturnType<typeof startNatsServer>>;
}): Promise<string> {
  const env = {
    DATABASE_URL: system.databaseUrl,
    TEMPORAL_ADDRESS: system.devServer.address,
    NATS_URL: system.nats.url,
    LOG_LEVEL: 'error',
    PAYLOAD_ENCRYPTION: 'false',
  };
  const processOf = (name: string, file: string, extra: string[], more: Record<string, string>) =>
    new ManagedProcess(
      supervisedSpec({ name, ...tsxCommand(file, extra), env: { ...env, ...more } }, system.runDir),
    );
  // Each subgraph's process on a port of its own: the four workers and the notifications consumer.
  const subgraphPorts = new Map<SubgraphName, number>();
  for (const name of SUBGRAPH_NAMES) subgraphPorts.set(name, await freePort());
  const portOf = (name: SubgraphName) => String(subgraphPorts.get(name));
  const workers = SERVICE_NAMES.map((service) =>
    processOf(
      `worker-${service}`,
      'workers/main.ts',
      ['--service', service, '--workflow-bundle', system.bundle],
      {
        WORKER_HTTP_PORT: portOf(service),
        TEMPORAL_METRICS_PORT: '0',
      },
    ),
  );
  const consumer = processOf(
    'consumer-notifications',
    'consumers/notifications/main.ts',
    ['--service', 'notifications'],
    {
      CONSUMER_HTTP_PORT: portOf('notifications'),
    },
  );
  const subgraphUrls = SUBGRAPH_NAMES.map(
    (name) => `${name}=http://127.0.0.1:${portOf(name)}${subgraphPath(name)}`,
  ).join(',');
  const apiPort = await freePort();
  const api = processOf('api', 'api/server.ts', [], {
    PORT: String(apiPort),
    GRAPH_SUBGRAPH_URLS: subgraphUrls,
  });
  const services = new Map<SubgraphName, ManagedProcess>([
    ...SERVICE_NAMES.map((service, i) => [service, workers[i] as ManagedProcess] as const),
    ['notifications', consumer],
  ]);
  const processes = [api, ...services.values()];
  for (const proc of processes) proc.start();
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  try {
    await Promise.all([
      api.waitReady(`${baseUrl}/readyz`, 90_000),
      ...[...services].map(([name, proc]) =>
        proc.waitReady(`http://127.0.0.1:${portOf(name)}/readyz`, 90_000),
      ),
    ]);
    log(`system up: API on ${apiPort}, subgraphs ${subgraphUrls}`);
    const client = new Client(baseUrl);
    const orderIds = await placeOrders(client);
    await awaitNotification(client, orderIds.at(-1) as string);
    // Quiet before measuring: every event published and every order notified, no relay or consumer still at work.
    const probe = postgres(system.databaseUrl, { max: 1, onnotice: () => {} });
    await waitForDrain(probe, orderIds)
      .then(() => log('outboxes drained, every order notified'))
      .catch((err: Error) => log(`measuring anyway: ${err.message}`))
      .finally(() => probe.end());

    // Every process the reads can reach (the API, the services, Temporal, NATS); Postgres apart, by command name.
    const cpuNow = () =>
      new Map([
        ...processes.map((p) => [p.name, cpuSeconds(p.pid)] as const),
        ['temporal', cpuSeconds(system.devServer.process.pid)],
        ['nats-server', cpuSeconds(system.nats.process.pid)],
        ['postgres', cpuSecondsOfCommand('postgres')],
      ]);
    // Read beside the client: scrapes are not requests of a read.
    const subgraphCalls = async () => {
      const response = await fetch(`${baseUrl}/metrics`);
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      const exposition = await response.text();
      return new Map(
        SUBGRAPH_NAMES.map((name) => [
          name,
          sumSamples(exposition, 'graphql_subgraph_requests_total', { subgraph: name }),
        ]),
      );
    };

    // Both say the same before either is timed; then each warms up.
    const mismatch = differences(await client.graphPage(), await client.restPage());
    if (mismatch.length) log(`GraphQL and REST disagree:\n${mismatch.slice(0, 5).join('\n')}`);
    else log(`GraphQL and REST pages agree (${PAGE} orders)`);
    await closedLoop(CONCURRENCY, WARM_UP_READS, async () => void (await client.graphPage()));
    await closedLoop(CONCURRENCY, WARM_UP_READS, async () => void (await client.restPage()));

    const tally = (): Tally => ({ latencies: [], seconds: 0, requests: 0, cpu: new Map() });
    const graph = tally();
    const rest = tally();
    const perSubgraph = new Map<SubgraphName, number>(SUBGRAPH_NAMES.map((name) => [name, 0]));
    const pass = async (into: Tally, read: () => Promise<unknown>, reads: number) => {
      const requestsBefore = client.requests;
      const before = cpuNow();
      const { latencies, seconds } = await closedLoop(CONCURRENCY, reads, async () => void (await read()));
      const after = cpuNow();
      into.latencies.push(...latencies);
      into.seconds += seconds;
      into.requests += client.requests - requestsBefore;
      for (const [name, seconds] of after) {
        into.cpu.set(name, (into.cpu.get(name) ?? 0) + seconds - (before.get(name) ?? 0));
      }
    };
    const graphPass = async (reads: number) => {
      const before = await subgraphCalls();
      await pass(graph, () => client.graphPage(), reads);
      const after = await subgraphCalls();
      for (const name of SUBGRAPH_NAMES) {
        const delta = (after.get(name) ?? 0) - (before.get(name) ?? 0);
        perSubgraph.set(name, (perSubgraph.get(name) ?? 0) + delta);
      }
    };
    const half = Math.ceil(READS / 2);
    const rest1 = READS - half;
    await graphPass(half);
    await pass(rest, () => client.restPage(), half);
    await pass(rest, () => client.restPage(), rest1);
    await graphPass(rest1);

    const rows = [row('GraphQL (one query)', graph), row(`REST (N+1 calls)`, rest)];
    for (const r of rows)
      log(`${r.name}: ${r.readsPerSecond.toFixed(1)} reads/s, p50 ${r.p50.toFixed(1)} ms`);
    const calls = SUBGRAPH_NAMES.map((name) => ({ name, requests: perSubgraph.get(name) ?? 0 }));
    const report = render(rows, calls, graph.latencies.length);
    const crashed = processes.filter((p) => p.crashes > 0);
    if (crashed.length)
      log(`restarted after a crash (CPU figures undercount): ${crashed.map((p) => p.name).join(', ')}`);
    const wrong = calls.filter((c) => c.requests !== graph.latencies.length);
    if (wrong.length) {
      console.log(report);
      throw new Error(
        `the gateway did not call each subgraph once per page: ${wrong
          .map((c) => `${c.name} ${c.requests} for ${graph.latencies.length} reads`)
          .join(', ')}`,
      );
    }
    return report;
  } finally {
    await Promise.allSettled(
      processes.map(async (proc) => {
        await proc.stop(10_000);
        proc.close();
      }),
    );
  }
}

/** Places ORDERS orders through REST, each waited for until COMPLETED; their ids in the order they finished. */
async function placeOrders(client: Client): Promise<string[]> {
  const ids: string[] = [];
  const placeOnce = async () => {
    const order = await client.call<{ orderId: string; status: string }>('/v1/orders?wait=30', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(BENCH_ORDER),
    });
    if (order.status !== 'COMPLETED') throw new Error(`order ${order.orderId} ended ${order.status}`);
    ids.push(order.orderId);
  };
  const { seconds } = await closedLoop(8, ORDERS, placeOnce);
  log(`${ORDERS} orders placed and completed in ${seconds.toFixed(1)} s`);
  return ids;
}

/** Waits (at most 30 s) until the notifications service has handled the last order; warns if it never does. */
async function awaitNotification(client: Client, orderId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const list = await client.call<{ items: unknown[] }>(
      `/v1/orders/${encodeURIComponent(orderId)}/notifications`,
    );
    if (list.items.length > 0) return log('notifications arrived');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log('no notification for the last order within 30 s: the notifications lists may be empty');
}

function row(name: string, t: Tally): Row {
  const reads = t.latencies.length;
  const byProcess = new Map([...t.cpu].map(([process, seconds]) => [process, (seconds / reads) * 1000]));
  const ours = [...byProcess].filter(([process]) => process !== 'postgres');
  return {
    name,
    readsPerSecond: reads / t.seconds,
    p50: percentile(t.latencies, 50),
    p99: percentile(t.latencies, 99),
    requestsPerRead: t.requests / reads,
    apiCpuMs: byProcess.get('api') ?? 0,
    allCpuMs: ours.reduce((sum, [, ms]) => sum + ms, 0),
    postgresCpuMs: byProcess.get('postgres') ?? 0,
    byProcess,
  };
}

function render(rows: Row[], calls: { name: string; requests: number }[], graphReads: number): string {
  const restP50 = rows[1]?.p50 ?? Number.NaN;
  const lines = [
    `GraphQL vs REST: one page of ${PAGE} orders (items → product, payment, shipment, notifications) of ${ORDERS}, ` +
      `closed loop c=${CONCURRENCY}, ${READS} reads per row in two passes each, one run`,
    '',
    '| read | reads/s | p50 ms | p99 ms | client requests per read | CPU ms per read (API) | CPU ms per read (all processes) | CPU ms per read (Postgres) | p50 × REST |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.readsPerSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.requestsPerRead.toFixed(0)} | ${r.apiCpuMs.toFixed(1)} | ${r.allCpuMs.toFixed(1)} | ${r.postgresCpuMs.toFixed(1)} | ${(r.p50 / restP50).toFixed(2)}× |`,
    );
  }
  lines.push(
    '',
    'Gateway requests per subgraph (`graphql_subgraph_requests_total` on the API):',
    '',
    '| subgraph | requests | per GraphQL read |',
    '|---|---:|---:|',
    ...calls.map((c) => `| ${c.name} | ${c.requests} | ${(c.requests / graphReads).toFixed(2)} |`),
    '',
    'CPU ms per read by process (all processes = every one but postgres, whose backends are counted host-wide):',
    '',
    `| process | ${rows.map((r) => r.name).join(' | ')} |`,
    `|---|${rows.map(() => '---:').join('|')}|`,
    ...[...(rows[0]?.byProcess.keys() ?? [])].map(
      (process) =>
        `| ${process} | ${rows.map((r) => (r.byProcess.get(process) ?? 0).toFixed(1)).join(' | ')} |`,
    ),
  );
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
