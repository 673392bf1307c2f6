/**
 * `npm run bench`: on one Temporal dev server and one real Postgres, measures in the same run
 *   floor  — a bare workflow with five no-op activities, started with the client;
 *   saga   — real orders through the HTTP API, end to end (POST until terminal);
 *   direct — the same database steps in one process without Temporal;
 * closed-loop at several concurrencies and open-loop at a fixed rate; prints a markdown table, writes JSON.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import postgres from 'postgres';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { createPaymentsActivities } from '../../activities/payments.js';
import { createShippingActivities } from '../../activities/shipping.js';
import { type OrderState, type OrderStatus, orderWorkflowId } from '../../contracts/orders.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { silentLogger } from '../../core/logger.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { requireTemporalCli } from '../../harness/dev-tools.mjs';
import { freePort } from '../../harness/free-port.js';
import { cpuSeconds, cpuSecondsOfCommand, rssMiB } from '../../harness/proc-stats.js';
import { ManagedProcess, supervisedSpec } from '../../harness/processes.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import { FLOOR_QUEUE } from './floor-workflow.js';
import { renderSoak, soak } from './soak.js';
import { percentile } from './stats.js';

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,8,32,128' },
    orders: { type: 'string', default: '200', short: 'n' },
    'open-rate': { type: 'string', default: '' },
    'open-seconds': { type: 'string', default: '20' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    'temporal-address': { type: 'string' },
    out: { type: 'string', default: path.join(PROJECT_ROOT, 'bench-results') },
    quick: { type: 'boolean', default: false },
    // The dev server with its stock settings: the baseline for the DEV_SERVER_TUNING lever.
    'untuned-server': { type: 'boolean', default: false },
    // The dev server on this SQLite file instead of in memory (what `npm start` runs; the WAL lever).
    'temporal-db': { type: 'string' },
    // Extra environment for the saga's workers and API, e.g. --env WORKER_MAX_CACHED_WORKFLOWS=50 (levers).
    env: { type: 'string', multiple: true, default: [] },
    // Memory soak instead of the table: this many saga orders at --soak-concurrency, RSS at every tenth.
    soak: { type: 'string' },
    'soak-concurrency': { type: 'string', default: '16' },
    // Writes a V8 CPU profile per worker/API process (summarise with tools/bench/profile-summary.ts).
    profile: { type: 'string' },
  },
});

const quick = args.quick ?? false;
if ((args['untuned-server'] || args['temporal-db']) && args['temporal-address']) {
  throw new Error('--untuned-server and --temporal-db apply to the dev server the bench starts');
}
if (args.soak !== undefined && !(Number(args.soak) > 0)) throw new Error('--soak expects a number of orders');
if (args.soak && args.profile) throw new Error('--profile measures the table runs; run it without --soak');
const LEVELS = (quick ? '1,8' : (args.concurrency as string)).split(',').map(Number);
const ORDERS_PER_LEVEL = quick ? 50 : Number(args.orders);
const log = (line: string) => console.error(`[bench] ${line}`);

interface Row {
  mode: 'floor' | 'saga' | 'direct';
  load: string;
  orders: number;
  ordersPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  postP50?: number;
  postP99?: number;
  cpuPerOrderMs: number;
  /** The rest of the machine's CPU per order: the API process, the Temporal server, all Postgres backends. */
  apiCpuPerOrderMs: number;
  temporalCpuPerOrderMs: number;
  postgresCpuPerOrderMs: number;
  peakWorkerRssMiB: number;
  /** Most Postgres sessions of the benchmark database busy at once / open at once (pool sizing). */
  peakDbActive: number;
  peakDbOpen: number;
}

const address = {
  name: 'Bench Marker',
  line1: '1 Fast Lane',
  city: 'Leeds',
  postalCode: 'LS1 1AA',
  country: 'GB',
};

async function main(): Promise<void> {
  mkdirSync(args.out as string, { recursive: true });
  const runDir = path.join(PROJECT_ROOT, '.data', 'bench', String(Date.now()));
  mkdirSync(runDir, { recursive: true });
  const sagaBundle = path.join(runDir, 'workflows.js');
  await writeWorkflowBundle(sagaBundle, { quiet: true });
  const floorBundle = path.join(runDir, 'floor.js');
  const floorPath = path.join(PROJECT_ROOT, 'tools', 'bench', 'floor-workflow.ts');
  await writeWorkflowBundle(floorBundle, { workflowsPath: floorPath, quiet: true });

  let devServer: DevServer | undefined;
  let temporalAddress = args['temporal-address'];
  if (!temporalAddress) {
    devServer = await startDevServer({
      cli: requireTemporalCli(),
      port: await freePort(),
      untuned: args['untuned-server'] ?? false,
      ...(args['temporal-db'] ? { dbFile: path.resolve(args['temporal-db']) } : {}),
    });
    temporalAddress = devServer.address;
  }

  const adminUrl = args['database-url'] as string;
  const benchDatabase = await createThrowawayPostgres(adminUrl, 'bench');
  const { name: dbName, url: databaseUrl } = benchDatabase;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // The sampler's own backend is left out of the Postgres CPU per order.
  const [{ pid: adminBackendPid } = { pid: 0 }] = await admin<
    { pid: number }[]
  >`select pg_backend_pid() as pid`;
  const database = await openDatabase({ url: databaseUrl, poolSize: 16 });
  await migrateDatabase(database);
  for (const sku of ['B-1', 'B-2', 'B-3']) {
    await upsertProduct(database.db, { sku, name: sku, priceCents: 1000, available: 100_000_000 });
  }

  const apiPort = await freePort();
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    LOG_LEVEL: 'error',
    DATABASE_POOL_SIZE: '10',
    // Encrypted like production: the saga's numbers include the codec's cost.
    PAYLOAD_KEYS: payloadKeysForRun('bench-1'),
    ...Object.fromEntries(
      (args.env as string[]).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
  const profileDir = args.profile ? path.resolve(args.profile) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const tsx = (file: string, extra: string[] = []) => ({
    command: process.execPath,
    args: [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--import',
      'tsx',
      file,
      ...extra,
    ],
  });
  const workers = SERVICE_NAMES.map(
    (service) =>
      new ManagedProcess(
        supervisedSpec(
          {
            name: `worker-${service}`,
            ...tsx('workers/main.ts', ['--service', service, '--workflow-bundle', sagaBundle]),
            env: { ...env, WORKER_HTTP_PORT: '0', TEMPORAL_METRICS_PORT: '0' },
          },
          runDir,
        ),
      ),
  );
  const floorWorker = new ManagedProcess(
    supervisedSpec(
      {
        name: 'floor-worker',
        ...tsx('tools/bench/floor-worker.ts', [floorBundle, temporalAddress]),
        env: { PAYLOAD_KEYS: env.PAYLOAD_KEYS },
      },
      runDir,
    ),
  );
  const api = new ManagedProcess(
    supervisedSpec({ name: 'api', ...tsx('api/server.ts'), env: { ...env, PORT: String(apiPort) } }, runDir),
  );
  for (const proc of [...workers, floorWorker, api]) proc.start();
  // What the profile summary needs: which pid is which process, and when each measurement ran (monotonic µs,
  // the clock V8's profiles use), so start-up and warm-up are left out.
  const profileMeta = {
    processes: Object.fromEntries([...workers, floorWorker, api].map((p) => [p.pid, p.spec.name])),
    windows: [] as { mode: Row['mode']; load: string; orders: number; startUs: number; endUs: number }[],
  };
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  await api.waitReady(`${baseUrl}/readyz`, 60_000);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({
    connection,
    dataConverter: loadPayloadProtection(loadConfig(env)).dataConverter,
  });

  const floorOnce = async () => {
    await client.workflow.execute('floorWorkflow', {
      taskQueue: FLOOR_QUEUE,
      workflowId: `floor-${randomUUID()}`,
    });
  };
  const postLatencies: number[] = [];
  const sagaOnce = async () => {
    const started = performance.now();
    const response = await fetch(`${baseUrl}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'bench',
        items: [{ sku: 'B-1', quantity: 1 }],
        payment: { token: 'tok_ok' },
        shippingAddress: address,
      }),
    });
    postLatencies.push(performance.now() - started);
    const { orderId } = (await response.json()) as { orderId: string };
    if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
    const final = (await client.workflow.getHandle(orderWorkflowId(orderId)).result()) as OrderState;
    if (final.status !== 'COMPLETED') throw new Error(`order ended ${final.status}`);
  };
  const directOnce = directSteps(database.db);

  const rows: Row[] = [];
  const workerPids = () => [...workers.map((w) => w.pid), floorWorker.pid];
  const measure = async (
    mode: Row['mode'],
    load: string,
    run: () => Promise<{ latencies: number[]; seconds: number }>,
  ) => {
    postLatencies.length = 0;
    const pids = mode === 'direct' ? [] : mode === 'floor' ? [floorWorker.pid] : workers.map((w) => w.pid);
    // CPU seconds used so far by the mode's workers (this process for direct), the API, the server and Postgres.
    const cpuNow = () => [
      mode === 'direct' ? ownCpuSeconds() : pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0),
      mode === 'saga' ? cpuSeconds(api.pid) : 0,
      // Not ours to measure when the server runs elsewhere (--temporal-address): blank, not 0.
      devServer ? cpuSeconds(devServer.process.pid) : Number.NaN,
      cpuSecondsOfCommand('postgres') - cpuSeconds(adminBackendPid),
    ];
    const cpuBefore = cpuNow();
    let peak = 0;
    const db = { active: 0, open: 0, sampling: false };
    const dbSampler = setInterval(() => {
      if (db.sampling) return;
      db.sampling = true;
      admin`select count(*) filter (where state = 'active')::int as active, count(*)::int as open
            from pg_stat_activity where datname = ${dbName}`
        .then(([row]) => {
          db.active = Math.max(db.active, row?.active ?? 0);
          db.open = Math.max(db.open, row?.open ?? 0);
        })
        .catch(() => undefined)
        .finally(() => {
          db.sampling = false;
        });
    }, 50);
    const sampler = setInterval(() => {
      peak = Math.max(
        peak,
        ...workerPids().map(rssMiB),
        mode === 'direct' ? process.memoryUsage().rss / 2 ** 20 : 0,
      );
    }, 200);
    const startUs = monotonicUs();
    let outcome: { latencies: number[]; seconds: number };
    try {
      outcome = await run();
    } finally {
      clearInterval(sampler);
      clearInterval(dbSampler);
    }
    const { latencies, seconds } = outcome;
    profileMeta.windows.push({ mode, load, orders: latencies.length, startUs, endUs: monotonicUs() });
    const [workersCpu = 0, apiCpu = 0, temporalCpu = 0, postgresCpu = 0] = cpuNow().map(
      (seconds, i) => ((seconds - (cpuBefore[i] ?? 0)) / latencies.length) * 1000,
    );
    const row: Row = {
      mode,
      load,
      orders: latencies.length,
      ordersPerSecond: latencies.length / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      ...(mode === 'saga'
        ? { postP50: percentile(postLatencies, 50), postP99: percentile(postLatencies, 99) }
        : {}),
      cpuPerOrderMs: workersCpu,
      apiCpuPerOrderMs: apiCpu,
      temporalCpuPerOrderMs: temporalCpu,
      postgresCpuPerOrderMs: postgresCpu,
      peakWorkerRssMiB: peak,
      peakDbActive: db.active,
      peakDbOpen: db.open,
    };
    rows.push(row);
    log(
      `${mode} ${load}: ${row.ordersPerSecond.toFixed(1)}/s p50 ${row.p50.toFixed(0)} ms p99 ${row.p99.toFixed(0)} ms`,
    );
  };

  const stopAll = async () => {
    await connection.close();
    for (const proc of [api, ...workers, floorWorker]) await proc.stop(10_000);
    for (const proc of [api, ...workers, floorWorker]) proc.close();
    await database.close();
    await devServer?.stop();
    await admin.end();
    await benchDatabase.drop();
  };

  // Whatever happens while measuring, the processes, the dev server and the bench database go away.
  try {
    // Warm up every path (JIT, connection pools, workflow cache) before measuring.
    await closedLoop(4, 20, floorOnce);
    await closedLoop(4, 20, sagaOnce);
    if (args.soak) {
      const total = Number(args.soak);
      const checkpoints = await soak({
        total,
        concurrency: Number(args['soak-concurrency']),
        every: Math.max(1, Math.round(total / 10)),
        run: sagaOnce,
        processes: [...workers, api].map((p) => ({ name: p.spec.name, pid: p.pid })),
        onCheckpoint: (c) => log(`soak ${c.orders}/${total} orders, ${c.seconds.toFixed(0)} s`),
      });
      const table = renderSoak(checkpoints);
      console.log(table);
      writeFileSync(path.join(args.out as string, 'soak.md'), `${table}\n`);
      writeFileSync(path.join(args.out as string, 'soak.json'), JSON.stringify(checkpoints, null, 2));
      return;
    }
    await closedLoop(4, 20, directOnce);
    for (const concurrency of LEVELS) {
      const total = Math.max(ORDERS_PER_LEVEL, concurrency * 2);
      await measure('floor', `closed c=${concurrency}`, () => closedLoop(concurrency, total, floorOnce));
      await measure('saga', `closed c=${concurrency}`, () => closedLoop(concurrency, total, sagaOnce));
      await measure('direct', `closed c=${concurrency}`, () => closedLoop(concurrency, total, directOnce));
    }
    // Open loop at half the saga's best closed-loop throughput (or the given rate): the POST p99 target's point.
    const bestSaga = Math.max(...rows.filter((r) => r.mode === 'saga').map((r) => r.ordersPerSecond));
    const rate = Number(args['open-rate']) || Math.max(1, Math.round(bestSaga / 2));
    const seconds = quick ? 5 : Number(args['open-seconds']);
    await measure('floor', `open ${rate}/s`, () => openLoop(rate, seconds, floorOnce));
    await measure('saga', `open ${rate}/s`, () => openLoop(rate, seconds, sagaOnce));
    await measure('direct', `open ${rate}/s`, () => openLoop(rate, seconds, directOnce));

    const table = renderTable(rows);
    console.log(table);
    const stamp = new Date().toISOString();
    writeFileSync(
      path.join(args.out as string, 'bench.json'),
      JSON.stringify({ stamp, levels: LEVELS, rows }, null, 2),
    );
    writeFileSync(path.join(args.out as string, 'bench.md'), `${table}\n`);
    if (profileDir) writeFileSync(path.join(profileDir, 'meta.json'), JSON.stringify(profileMeta, null, 2));
  } finally {
    await stopAll();
  }
}

/** CPU seconds this process has used so far (the direct mode's workers are this process). */
function ownCpuSeconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/** The saga's database steps called in sequence in this process, with no Temporal: a non-durable monolith. */
function directSteps(db: Parameters<typeof createOrdersActivities>[0]['db']) {
  const orders = createOrdersActivities({ db });
  const inventory = createInventoryActivities({ db });
  const payments = createPaymentsActivities({ db });
  const shipping = createShippingActivities({ db });
  const env = new MockActivityEnvironment({}, { logger: silentLogger });
  return async () => {
    const orderId = `ord_${randomUUID().replaceAll('-', '')}`;
    const items = [{ sku: 'B-1', quantity: 1, unitPriceCents: 1000 }];
    const status = (s: OrderStatus, seq: number) =>
      env.run(orders.setOrderStatus, { orderId, status: s, seq });
    await env.run(orders.createOrderRecord, {
      orderId,
      customerId: 'bench',
      items,
      totalCents: 1000,
      createdAt: new Date().toISOString(),
    });
    await status('RESERVING', 1);
    await env.run(inventory.reserveStock, { orderId, items: [{ sku: 'B-1', quantity: 1 }] });
    await status('CHARGING', 2);
    await env.run(payments.chargePayment, { orderId, amountCents: 1000, paymentToken: 'tok_ok' });
    await status('SHIPPING', 3);
    await env.run(shipping.createShipment, { orderId, address });
    await env.run(inventory.commitStock, { orderId });
    await status('COMPLETED', 4);
  };
}

/** `concurrency` loops each running `fn` back to back until `total` runs are done. */
async function closedLoop(concurrency: number, total: number, fn: () => Promise<void>) {
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started += 1;
        const t = performance.now();
        await fn();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}

/** Starts `fn` at a fixed rate for `seconds`, whether or not earlier runs finished (arrivals do not wait). */
async function openLoop(rate: number, seconds: number, fn: () => Promise<void>) {
  const latencies: number[] = [];
  const runs: Promise<void>[] = [];
  const begin = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = begin + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t = performance.now();
    runs.push(fn().then(() => void latencies.push(performance.now() - t)));
  }
  await Promise.all(runs);
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}

function renderTable(rows: Row[]): string {
  const floorBy = new Map(rows.filter((r) => r.mode === 'floor').map((r) => [r.load, r]));
  const f = (n: number | undefined, digits = 0) =>
    n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);
  const lines = [
    '| mode | load | orders | orders/s | × floor | p50 ms | p95 ms | p99 ms | POST p50 / p99 ms | CPU ms/order: workers / API / Temporal / Postgres | peak worker RSS MiB | DB sessions busy / open |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const floor = floorBy.get(r.load);
    const ratio = floor ? r.ordersPerSecond / floor.ordersPerSecond : Number.NaN;
    const post = r.postP50 !== undefined ? `${f(r.postP50)} / ${f(r.postP99)}` : '';
    lines.push(
      `| ${r.mode} | ${r.load} | ${r.orders} | ${f(r.ordersPerSecond, 1)} | ${f(ratio, 2)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${post} | ${[r.cpuPerOrderMs, r.apiCpuPerOrderMs, r.temporalCpuPerOrderMs, r.postgresCpuPerOrderMs].map((v) => f(v, 1)).join(' / ')} | ${f(r.peakWorkerRssMiB)} | ${r.peakDbActive} / ${r.peakDbOpen} |`,
    );
  }
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
