/**
 * `npm run bench`: on one Temporal dev server and one real Postgres, measures in the same run
 *   floor       — a bare workflow with five no-op activities, started with the client;
 *   plain       — the saga's database steps as nine plain activities on one queue (the SDK samples' shape),
 *                 started with the client: the baseline the headline ratios are taken against;
 *   distributed — real orders through the HTTP API, end to end (POST until terminal), one worker per service;
 *   colocated   — the same through an API placing orders colocated, one worker process running every step;
 *   direct      — the same database steps in one process without Temporal;
 * closed-loop at several concurrencies and open-loop at a fixed rate, with the history events of one order per
 * window; then the distributed saga with events off and on
 * (workers relaying to an embedded NATS server, the notifications consumer running) with the latencies from commit
 * to published and consumed; prints markdown tables, writes JSON.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { type OrderState, orderWorkflowId } from '../../contracts/orders.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { requireNatsServer, requireTemporalCli } from '../../harness/dev-tools.mjs';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';
import { cpuSeconds, cpuSecondsOfCommand, rssMiB } from '../../harness/proc-stats.js';
import { ManagedProcess, supervisedSpec } from '../../harness/processes.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import { FLOOR_QUEUE, PLAIN_QUEUE } from './baseline-workflows.js';
import { BENCH_ADDRESS, BENCH_ORDER, directSteps, ownCpuSeconds } from './direct.js';
import {
  discardUnpublished,
  eventLatencies,
  outboxCounts,
  renderLatencyTable,
  waitForDrain,
} from './events.js';
import { closedLoop, openLoop } from './load.js';
import { renderSoak, soak } from './soak.js';
import { percentile } from './stats.js';
import { type Row, renderEventsTable, renderTable } from './table.js';

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
    // Orders per level of the events off/on pair (default --orders; 16 with --quick); --skip-events leaves it out.
    'events-orders': { type: 'string' },
    'skip-events': { type: 'boolean', default: false },
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
const EVENTS_PAIR = !(args['skip-events'] ?? false) && args.soak === undefined;
const EVENTS_ORDERS_PER_LEVEL = quick ? 16 : Number(args['events-orders'] ?? args.orders);
if (!(EVENTS_ORDERS_PER_LEVEL > 0)) throw new Error('--events-orders expects a number of orders');
const log = (line: string) => console.error(`[bench] ${line}`);

async function main(): Promise<void> {
  mkdirSync(args.out as string, { recursive: true });
  const runDir = path.join(PROJECT_ROOT, '.data', 'bench', String(Date.now()));
  mkdirSync(runDir, { recursive: true });
  const sagaBundle = path.join(runDir, 'workflows.js');
  await writeWorkflowBundle(sagaBundle, { quiet: true });
  const baselineBundle = path.join(runDir, 'baselines.js');
  const baselinePath = path.join(PROJECT_ROOT, 'tools', 'bench', 'baseline-workflows.ts');
  await writeWorkflowBundle(baselineBundle, { workflowsPath: baselinePath, quiet: true });

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
  // The events pair's broker: its own store in a temporary folder, a free port, gone after the run.
  let nats: NatsServer | undefined;
  const natsStore = EVENTS_PAIR ? mkdtempSync(path.join(os.tmpdir(), 'bench-nats-')) : undefined;
  if (natsStore) nats = await startNatsServer({ binary: requireNatsServer(), storeDir: natsStore });

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
  // The events pair's reads (drain checks, latencies): one session, left out of the Postgres CPU and session counts.
  const probe = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [{ pid: probeBackendPid } = { pid: 0 }] = await probe<
    { pid: number }[]
  >`select pg_backend_pid() as pid`;
  for (const sku of ['B-1', 'B-2', 'B-3']) {
    await upsertProduct(database.db, { sku, name: sku, priceCents: 1000, available: 100_000_000 });
  }

  const apiPort = await freePort();
  const colocatedApiPort = await freePort();
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
  // One worker process per service; with `events` (the events-on half of the pair) they relay their outboxes.
  const sagaWorkers = (events?: { natsUrl: string }) =>
    SERVICE_NAMES.map(
      (service) =>
        new ManagedProcess(
          supervisedSpec(
            {
              name: `worker-${service}${events ? '-events' : ''}`,
              ...tsx('workers/main.ts', ['--service', service, '--workflow-bundle', sagaBundle]),
              env: {
                ...env,
                WORKER_HTTP_PORT: '0',
                TEMPORAL_METRICS_PORT: '0',
                ...(events ? { NATS_URL: events.natsUrl } : {}),
              },
            },
            runDir,
          ),
        ),
    );
  let workers = sagaWorkers();
  const baselineWorker = (kind: 'floor' | 'plain') =>
    new ManagedProcess(
      supervisedSpec(
        {
          name: `${kind}-worker`,
          ...tsx('tools/bench/baseline-worker.ts', [kind, baselineBundle, temporalAddress]),
          env: { ...env, TEMPORAL_METRICS_PORT: '0' },
        },
        runDir,
      ),
    );
  const floorWorker = baselineWorker('floor');
  const plainWorker = baselineWorker('plain');
  // Every service in one process, polling only the colocated queue (the distributed workers keep theirs).
  const colocatedWorker = new ManagedProcess(
    supervisedSpec(
      {
        name: 'worker-colocated',
        ...tsx('workers/main.ts', ['--service', 'all', '--workflow-bundle', sagaBundle]),
        env: { ...env, WORKER_PLACEMENTS: 'colocated', WORKER_HTTP_PORT: '0', TEMPORAL_METRICS_PORT: '0' },
      },
      runDir,
    ),
  );
  const api = new ManagedProcess(
    supervisedSpec({ name: 'api', ...tsx('api/server.ts'), env: { ...env, PORT: String(apiPort) } }, runDir),
  );
  const colocatedApi = new ManagedProcess(
    supervisedSpec(
      {
        name: 'api-colocated',
        ...tsx('api/server.ts'),
        env: { ...env, SAGA_PLACEMENT: 'colocated', PORT: String(colocatedApiPort) },
      },
      runDir,
    ),
  );
  // The notifications consumer starts with the rest and idles (nothing reaches the stream) until the events-on
  // workers publish; its /readyz says the streams and its durable exist.
  const consumerPort = await freePort();
  const consumer = nats
    ? new ManagedProcess(
        supervisedSpec(
          {
            name: 'consumer-notifications',
            ...tsx('consumers/notifications/main.ts', ['--service', 'notifications']),
            env: { ...env, NATS_URL: nats.url, CONSUMER_HTTP_PORT: String(consumerPort) },
          },
          runDir,
        ),
      )
    : undefined;
  const baselines = [floorWorker, plainWorker, colocatedWorker, colocatedApi];
  for (const proc of [...workers, ...baselines, api, ...(consumer ? [consumer] : [])]) proc.start();
  // What the profile summary needs: which pid is which process, and when each measurement ran (monotonic µs,
  // the clock V8's profiles use), so start-up and warm-up are left out.
  const profileMeta = {
    processes: Object.fromEntries([...workers, ...baselines, api].map((p) => [p.pid, p.spec.name])),
    modes: {
      'floor-worker': 'floor',
      'plain-worker': 'plain',
      'worker-colocated': 'colocated',
      'api-colocated': 'colocated',
    } as Record<string, Row['mode']>,
    windows: [] as { mode: Row['mode']; load: string; orders: number; startUs: number; endUs: number }[],
  };
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const colocatedUrl = `http://127.0.0.1:${colocatedApiPort}`;
  await api.waitReady(`${baseUrl}/readyz`, 60_000);
  await colocatedApi.waitReady(`${colocatedUrl}/readyz`, 60_000);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({
    connection,
    dataConverter: loadPayloadProtection(loadConfig(env)).dataConverter,
  });

  /** The last workflow each mode ran: its history's length is the window's events per order. */
  const lastWorkflow = new Map<Row['mode'], string>();
  const floorOnce = async () => {
    const workflowId = `floor-${randomUUID()}`;
    await client.workflow.execute('floorWorkflow', { taskQueue: FLOOR_QUEUE, workflowId });
    lastWorkflow.set('floor', workflowId);
  };
  const plainOnce = async () => {
    const orderId = `ord_${randomUUID().replaceAll('-', '')}`;
    const workflowId = `plain-${orderId}`;
    await client.workflow.execute('plainSaga', {
      taskQueue: PLAIN_QUEUE,
      workflowId,
      args: [
        {
          orderId,
          customerId: 'bench',
          items: [{ sku: 'B-1', quantity: 1, unitPriceCents: 1000 }],
          totalCents: 1000,
          paymentToken: 'tok_ok',
          shippingAddress: BENCH_ADDRESS,
          createdAt: new Date().toISOString(),
        },
      ],
    });
    lastWorkflow.set('plain', workflowId);
  };
  const postLatencies: number[] = [];
  // The orders of the window being measured (the events pair reads their events afterwards).
  const sagaOrders: string[] = [];
  const orderThrough = (mode: 'distributed' | 'colocated', url: string) => async () => {
    const started = performance.now();
    const response = await fetch(`${url}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(BENCH_ORDER),
    });
    postLatencies.push(performance.now() - started);
    const { orderId } = (await response.json()) as { orderId: string };
    if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
    sagaOrders.push(orderId);
    const final = (await client.workflow.getHandle(orderWorkflowId(orderId)).result()) as OrderState;
    if (final.status !== 'COMPLETED') throw new Error(`order ended ${final.status}`);
    lastWorkflow.set(mode, orderWorkflowId(orderId));
  };
  const sagaOnce = orderThrough('distributed', baseUrl);
  const colocatedOnce = orderThrough('colocated', colocatedUrl);
  const directOnce = directSteps(database.db);

  const rows: Row[] = [];
  const windowOrders = new Map<Row, string[]>();
  const workerPids = () => [
    ...workers.map((w) => w.pid),
    floorWorker.pid,
    plainWorker.pid,
    colocatedWorker.pid,
  ];
  /** The worker processes whose CPU a mode's row counts, and its API's. */
  const pidsOf = (mode: Row['mode']): number[] => {
    const of: Record<Row['mode'], (number | undefined)[]> = {
      floor: [floorWorker.pid],
      plain: [plainWorker.pid],
      distributed: workers.map((w) => w.pid),
      colocated: [colocatedWorker.pid],
      direct: [],
    };
    return of[mode].filter((pid): pid is number => pid !== undefined);
  };
  const apiOf = (mode: Row['mode']) =>
    mode === 'distributed' ? api.pid : mode === 'colocated' ? colocatedApi.pid : undefined;
  const measure = async (
    mode: Row['mode'],
    load: string,
    run: () => Promise<{ latencies: number[]; seconds: number }>,
    events?: Row['events'],
  ) => {
    postLatencies.length = 0;
    sagaOrders.length = 0;
    const pids = pidsOf(mode);
    lastWorkflow.delete(mode);
    // CPU seconds used so far by the mode's workers (this process for direct), the API, the server and Postgres.
    const cpuNow = () => [
      mode === 'direct' ? ownCpuSeconds() : pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0),
      apiOf(mode) ? cpuSeconds(apiOf(mode)) : 0,
      // Not ours to measure when the server runs elsewhere (--temporal-address): blank, not 0.
      devServer ? cpuSeconds(devServer.process.pid) : Number.NaN,
      cpuSecondsOfCommand('postgres') - cpuSeconds(adminBackendPid) - cpuSeconds(probeBackendPid),
      // The consumer and the broker, running (idle with events off) only for the events pair: blank otherwise.
      events ? cpuSeconds(consumer?.pid) : Number.NaN,
      events ? cpuSeconds(nats?.process.pid) : Number.NaN,
    ];
    const cpuBefore = cpuNow();
    let peak = 0;
    const db = { active: 0, open: 0, sampling: false };
    const dbSampler = setInterval(() => {
      if (db.sampling) return;
      db.sampling = true;
      admin`select count(*) filter (where state = 'active')::int as active, count(*)::int as open
            from pg_stat_activity where datname = ${dbName} and pid <> ${probeBackendPid}`
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
      // The window's cost includes the relays and the consumer finishing its events (and the next starts clean).
      if (events === 'on') await waitForDrain(probe, [...sagaOrders]);
    } finally {
      clearInterval(sampler);
      clearInterval(dbSampler);
    }
    const { latencies, seconds } = outcome;
    if (!events)
      profileMeta.windows.push({ mode, load, orders: latencies.length, startUs, endUs: monotonicUs() });
    const [workersCpu = 0, apiCpu = 0, temporalCpu = 0, postgresCpu = 0, consumerCpu, natsCpu] = cpuNow().map(
      (seconds, i) => ((seconds - (cpuBefore[i] ?? 0)) / latencies.length) * 1000,
    );
    const sample = lastWorkflow.get(mode);
    const historyEvents = sample
      ? (await client.workflow.getHandle(sample).fetchHistory()).events?.length
      : undefined;
    const row: Row = {
      mode,
      load,
      ...(historyEvents !== undefined ? { historyEvents } : {}),
      ...(events ? { events, consumerCpuPerOrderMs: consumerCpu, natsCpuPerOrderMs: natsCpu } : {}),
      orders: latencies.length,
      ordersPerSecond: latencies.length / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      ...(apiOf(mode)
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
    windowOrders.set(row, [...sagaOrders]);
    log(
      `${mode}${events ? ` events ${events}` : ''} ${load}: ${row.ordersPerSecond.toFixed(1)}/s p50 ${row.p50.toFixed(0)} ms p99 ${row.p99.toFixed(0)} ms`,
    );
  };

  const stopAll = async () => {
    await connection.close();
    const processes = [api, ...(consumer ? [consumer] : []), ...workers, ...baselines];
    for (const proc of processes) await proc.stop(10_000);
    for (const proc of processes) proc.close();
    await nats?.stop();
    if (natsStore) rmSync(natsStore, { recursive: true, force: true });
    await probe.end();
    await database.close();
    await devServer?.stop();
    await admin.end();
    await benchDatabase.drop();
  };

  /**
   * The saga with events off (these workers: no NATS_URL, so the activities still write their outbox rows, but
   * nothing publishes them), then on (workers relaying to the embedded NATS server, the notifications consumer
   * running), at each level and at the open-loop `rate`; then the event latencies of the events-on windows.
   */
  const eventsPair = async (rate: number) => {
    if (!nats || !consumer) throw new Error('the events pair needs the NATS server and the consumer');
    const natsUrl = nats.url;
    const seconds = quick ? 3 : Number(args['open-seconds']);
    const loads = [
      ...LEVELS.map((c) => ({
        load: `closed c=${c}`,
        run: () => closedLoop(c, Math.max(EVENTS_ORDERS_PER_LEVEL, c * 2), sagaOnce),
      })),
      { load: `open ${rate}/s`, run: () => openLoop(rate, seconds, sagaOnce) },
    ];
    for (const { load, run } of loads) await measure('distributed', load, run, 'off');
    const offOrders = rows.filter((r) => r.events === 'off').flatMap((r) => windowOrders.get(r) ?? []);
    const written = await outboxCounts(probe, offOrders);
    const discarded = await discardUnpublished(probe);
    log(
      `events off: ${written.rows} outbox rows for ${offOrders.length} orders, ${written.published} published; ` +
        `${discarded} unpublished rows deleted before the relays start`,
    );

    const switchStarted = performance.now();
    await Promise.all(workers.map((w) => w.stop(10_000)));
    for (const w of workers) w.close();
    // Not in the profile's meta: --profile summarises the first table's windows only.
    workers = sagaWorkers({ natsUrl });
    for (const w of workers) w.start();
    await consumer.waitReady(`http://127.0.0.1:${consumerPort}/readyz`, 60_000);
    // The same warm-up as the first workers had; it also waits until the new workers poll.
    sagaOrders.length = 0;
    await closedLoop(4, 20, sagaOnce);
    await waitForDrain(probe, [...sagaOrders]);
    log(
      `events on: workers relaying and warmed up in ${((performance.now() - switchStarted) / 1000).toFixed(1)} s`,
    );
    for (const { load, run } of loads) await measure('distributed', load, run, 'on');
    return {
      ordersPerLevel: EVENTS_ORDERS_PER_LEVEL,
      eventsOff: { orders: offOrders.length, outboxRows: written.rows, published: written.published },
      latencies: await eventLatencies(
        probe,
        natsUrl,
        rows
          .filter((r) => r.events === 'on')
          .map((r) => ({ load: r.load, orderIds: windowOrders.get(r) ?? [] })),
      ),
    };
  };

  // Whatever happens while measuring, the processes, the dev server and the bench database go away.
  try {
    // Warm up every path (JIT, connection pools, workflow cache) before measuring.
    await closedLoop(4, 20, floorOnce);
    await closedLoop(4, 20, plainOnce);
    await closedLoop(4, 20, sagaOnce);
    await closedLoop(4, 20, colocatedOnce);
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
      const closed = `closed c=${concurrency}`;
      await measure('floor', closed, () => closedLoop(concurrency, total, floorOnce));
      await measure('plain', closed, () => closedLoop(concurrency, total, plainOnce));
      await measure('distributed', closed, () => closedLoop(concurrency, total, sagaOnce));
      await measure('colocated', closed, () => closedLoop(concurrency, total, colocatedOnce));
      await measure('direct', closed, () => closedLoop(concurrency, total, directOnce));
    }
    // Open loop at half the saga's best closed-loop throughput (or the given rate): the POST p99 target's point.
    const bestSaga = Math.max(...rows.filter((r) => r.mode === 'distributed').map((r) => r.ordersPerSecond));
    const rate = Number(args['open-rate']) || Math.max(1, Math.round(bestSaga / 2));
    const seconds = quick ? 5 : Number(args['open-seconds']);
    await measure('floor', `open ${rate}/s`, () => openLoop(rate, seconds, floorOnce));
    await measure('plain', `open ${rate}/s`, () => openLoop(rate, seconds, plainOnce));
    await measure('distributed', `open ${rate}/s`, () => openLoop(rate, seconds, sagaOnce));
    await measure('colocated', `open ${rate}/s`, () => openLoop(rate, seconds, colocatedOnce));
    await measure('direct', `open ${rate}/s`, () => openLoop(rate, seconds, directOnce));

    const events = EVENTS_PAIR ? await eventsPair(rate) : undefined;

    const tables = [renderTable(rows.filter((r) => r.events === undefined))];
    if (events) {
      const { orders, outboxRows, published } = events.eventsOff;
      tables.push(
        renderEventsTable(rows.filter((r) => r.events !== undefined)),
        `Events off: ${orders} orders wrote ${outboxRows} outbox rows (${(outboxRows / orders).toFixed(1)} per order) in their activities' transactions; ${published} published.`,
        renderLatencyTable(events.latencies),
      );
    }
    const table = tables.join('\n\n');
    console.log(table);
    const stamp = new Date().toISOString();
    writeFileSync(
      path.join(args.out as string, 'bench.json'),
      JSON.stringify({ stamp, levels: LEVELS, rows, ...(events ? { events } : {}) }, null, 2),
    );
    writeFileSync(path.join(args.out as string, 'bench.md'), `${table}\n`);
    if (profileDir) writeFileSync(path.join(profileDir, 'meta.json'), JSON.stringify(profileMeta, null, 2));
  } finally {
    await stopAll();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
