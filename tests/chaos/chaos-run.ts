/**
 * `npm run chaos -- --orders N --seed S`: the real topology as separate processes (Temporal dev server on a file,
 * the API, one process per service worker, real Postgres), orders placed by a well-behaved client while workers are
 * SIGKILLed and restarted, the API, Temporal and Postgres restarted, and faults injected; then the invariants.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { SERVICE_NAMES, type ServiceName } from '../../contracts/services.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { ManagedProcess } from '../../harness/managed-process.js';
// @ts-expect-error plain JavaScript module without types (it runs before npm install)
import { ensureTemporalTools } from '../../harness/temporal-tools.mjs';
import { waitReady } from '../../harness/wait-ready.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import { ChaosClient } from './client.js';
import { type AcceptedOrder, checkInvariants, invariantTable } from './invariants.js';
import { Rng } from './rng.js';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'fault-rate': { type: 'string', default: '0.05' },
    'after-fault-rate': { type: 'string', default: '0.03' },
    'latency-ms': { type: 'string', default: '10' },
    'kills-per-service': { type: 'string', default: '2' },
    'restart-db': { type: 'string', default: 'true' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    'drain-timeout-s': { type: 'string', default: '300' },
    'overload-seconds': { type: 'string', default: '0' },
    'overload-factor': { type: 'string', default: '4' },
    'overload-rate': { type: 'string', default: '0' },
    report: { type: 'string' },
  },
});

const ORDERS = Number(args.orders);
const SEED = Number(args.seed);
const rng = new Rng(SEED);
const runDir = path.join(PROJECT_ROOT, '.data', 'chaos', `seed-${SEED}-${Date.now()}`);
mkdirSync(runDir, { recursive: true });
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The catalog of a run: plenty of stock, and one scarce SKU so out-of-stock happens for real. */
const CATALOG = [
  { sku: 'CH-MUG', name: 'Chaos mug', priceCents: 1200, available: 1_000_000 },
  { sku: 'CH-TEE', name: 'Chaos tee', priceCents: 2500, available: 1_000_000 },
  { sku: 'CH-BOOK', name: 'Chaos book', priceCents: 4000, available: 1_000_000 },
  {
    sku: 'CH-RARE',
    name: 'Chaos rarity',
    priceCents: 9900,
    available: Math.max(10, Math.floor(ORDERS / 10)),
  },
];

const SCENARIOS = { ok: 50, declined: 10, flaky: 10, undeliverable: 10, outOfStock: 8, cancel: 12 } as const;
type Scenario = keyof typeof SCENARIOS;

function orderBody(scenario: Scenario, i: number) {
  const sku = scenario === 'outOfStock' ? 'CH-RARE' : rng.pick(['CH-MUG', 'CH-TEE', 'CH-BOOK']);
  return {
    customerId: `chaos-${i % 50}`,
    items: [{ sku, quantity: scenario === 'outOfStock' ? 4 : rng.int(1, 3) }],
    payment: {
      token: scenario === 'declined' ? 'tok_declined' : scenario === 'flaky' ? 'tok_flaky' : 'tok_ok',
    },
    shippingAddress: {
      name: 'Chaos Monkey',
      line1: '1 Fault Line',
      city: 'Berlin',
      postalCode: '10115',
      country: scenario === 'undeliverable' ? 'XX' : 'DE',
    },
  };
}

const BAD_INPUTS = [
  { body: '{"customerId": "x", "items": [', why: 'malformed JSON' },
  { body: JSON.stringify({ customerId: 'x', items: [{ sku: 'NOPE', quantity: 1 }] }), why: 'invalid body' },
  {
    body: JSON.stringify({ ...orderBody('ok', 0), items: [{ sku: 'CH-MUG', quantity: 0 }] }),
    why: 'quantity 0',
  },
  {
    body: JSON.stringify({ ...orderBody('ok', 0), items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }),
    why: 'unknown SKU',
  },
  { body: 'x'.repeat(200_000), why: 'oversized' },
];

async function main(): Promise<number> {
  const tools = ensureTemporalTools() as { cli: string | null };
  if (!tools.cli) throw new Error('Temporal CLI unavailable');
  const bundlePath = path.join(runDir, 'workflows.js');
  await writeWorkflowBundle(bundlePath, { quiet: true });

  // A database of its own on the real Postgres server.
  const adminUrl = args['database-url'] as string;
  const dbName = `chaos_${SEED}_${Date.now()}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const setup = await openDatabase({ url: databaseUrl, poolSize: 2 });
  await migrateDatabase(setup);
  for (const product of CATALOG) await upsertProduct(setup.db, product);
  await setup.close();
  const startingStock = new Map(CATALOG.map((p) => [p.sku, p.available]));

  const temporalPort = await freePort();
  const dbFile = path.join(runDir, 'temporal.sqlite');
  const startTemporal = () => startDevServer({ cli: tools.cli as string, port: temporalPort, dbFile });
  let devServer: DevServer = await startTemporal();
  const apiPort = await freePort();
  const common = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    DATABASE_POOL_SIZE: '5',
    // Every process of the run seals payloads with the same key, as a deployment's Secret would give them.
    PAYLOAD_KEYS: payloadKeysForRun('chaos-1'),
  };
  const tsx = (file: string, extra: string[] = []) => ({
    command: process.execPath,
    args: ['--import', 'tsx', file, ...extra],
  });
  const api = new ManagedProcess(
    { name: 'api', ...tsx('api/server.ts'), env: { ...common, PORT: String(apiPort) }, cwd: PROJECT_ROOT },
    runDir,
  );
  const workers = new Map<ServiceName, ManagedProcess>(
    SERVICE_NAMES.map((service) => [
      service,
      new ManagedProcess(
        {
          name: `worker-${service}`,
          ...tsx('workers/main.ts', ['--service', service, '--workflow-bundle', bundlePath]),
          env: {
            ...common,
            FAULT_RATE: args['fault-rate'] as string,
            FAULT_AFTER_RATE: args['after-fault-rate'] as string,
            FAULT_LATENCY_MS: args['latency-ms'] as string,
            WORKER_HTTP_PORT: '0',
            TEMPORAL_METRICS_PORT: '0',
            SHUTDOWN_GRACE_SECONDS: '5',
          },
          cwd: PROJECT_ROOT,
        },
        runDir,
      ),
    ]),
  );
  const all = [api, ...workers.values()];
  for (const proc of all) proc.start();
  const sampler = setInterval(() => {
    for (const proc of all) proc.sampleMemory();
  }, 500);

  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const client = new ChaosClient(baseUrl);
  await waitReady(baseUrl);
  log(`topology up: API ${baseUrl}, Temporal ${devServer.address}, database ${dbName}, logs in ${runDir}`);

  // The fault schedule: every worker killed K times, the API, Temporal and Postgres restarted, in seeded order.
  type Fault =
    | { kind: 'kill-worker'; service: ServiceName }
    | { kind: 'restart-api' | 'restart-temporal' | 'restart-db' };
  const faults: Fault[] = [];
  for (const service of SERVICE_NAMES) {
    for (let k = 0; k < Number(args['kills-per-service']); k++) faults.push({ kind: 'kill-worker', service });
  }
  faults.push({ kind: 'restart-api' }, { kind: 'restart-temporal' });
  if (args['restart-db'] === 'true') faults.push({ kind: 'restart-db' });
  for (let i = faults.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [faults[i], faults[j]] = [faults[j] as Fault, faults[i] as Fault];
  }
  const faultCounts: Record<string, number> = {};
  let lastFaultAt = Date.now();
  const runFault = async (fault: Fault) => {
    const label = fault.kind === 'kill-worker' ? `kill -9 worker-${fault.service}` : fault.kind;
    log(`fault: ${label}`);
    faultCounts[fault.kind] = (faultCounts[fault.kind] ?? 0) + 1;
    if (fault.kind === 'kill-worker') {
      const proc = workers.get(fault.service) as ManagedProcess;
      await proc.kill();
      await sleep(rng.int(200, 1500));
      proc.start();
    } else if (fault.kind === 'restart-api') {
      await api.kill();
      await sleep(rng.int(200, 1000));
      api.start();
    } else if (fault.kind === 'restart-temporal') {
      await devServer.stop();
      await sleep(rng.int(500, 2000));
      devServer = await startTemporal();
    } else {
      const version = readdirSync('/etc/postgresql')[0] ?? '15';
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], {
        stdio: 'ignore',
      });
    }
    lastFaultAt = Date.now();
  };

  // Place the orders (bounded concurrency) while the faults fire at evenly spaced points of progress.
  const accepted: AcceptedOrder[] = [];
  const outcomes: Record<string, number> = {};
  const badInputResults: Record<string, number> = {};
  let placed = 0;
  let nextFault = 0;
  const plan = Array.from({ length: ORDERS }, (_, i) => ({
    i,
    scenario: rng.weighted(SCENARIOS),
    bad: i % 7 === 3,
  }));
  const cancelDelays = plan.map(() => rng.int(0, 400));
  const badPicks = plan.map(() => rng.pick(BAD_INPUTS));
  const faultLoop = (async () => {
    while (nextFault < faults.length) {
      const due = Math.floor(((nextFault + 1) * ORDERS) / (faults.length + 1));
      if (placed >= due) await runFault(faults[nextFault++] as Fault);
      else await sleep(100);
    }
  })();
  const startedAt = Date.now();
  let cursor = 0;
  const workersLoop = Array.from({ length: Number(args.concurrency) }, async () => {
    while (cursor < plan.length) {
      const { i, scenario, bad } = plan[cursor++] as (typeof plan)[number];
      if (bad) {
        const pick = badPicks[i] as (typeof BAD_INPUTS)[number];
        const reply = await client.sendRaw('POST', '/v1/orders', pick.body);
        badInputResults[`${pick.why} -> ${reply.status}`] =
          (badInputResults[`${pick.why} -> ${reply.status}`] ?? 0) + 1;
      }
      const key = `chaos-${SEED}-${i}`;
      const reply = await client.send('POST', '/v1/orders', orderBody(scenario, i), {
        'idempotency-key': key,
      });
      if (reply.status !== 202 && reply.status !== 200) {
        outcomes[`rejected ${reply.status}`] = (outcomes[`rejected ${reply.status}`] ?? 0) + 1;
      } else {
        accepted.push({ key, orderId: String(reply.body?.orderId) });
        if (scenario === 'cancel') {
          await sleep(cancelDelays[i] as number);
          const cancel = await client.send('POST', `/v1/orders/${reply.body?.orderId}/cancel`);
          outcomes[`cancel -> ${cancel.status}`] = (outcomes[`cancel -> ${cancel.status}`] ?? 0) + 1;
        }
      }
      placed += 1;
    }
  });
  await Promise.all(workersLoop);
  await faultLoop;
  const placingSeconds = (Date.now() - startedAt) / 1000;
  log(
    `placed ${placed} orders (${accepted.length} accepted) in ${placingSeconds.toFixed(1)} s; waiting for them to end`,
  );

  // Drain: every accepted order must end within the bound.
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const drain = async () => {
    const deadline = Date.now() + Number(args['drain-timeout-s']) * 1000;
    while (Date.now() < deadline) {
      const [row] =
        await sql`select count(*)::int as open from orders.orders where status not in ('COMPLETED','FAILED','CANCELLED')`;
      const rows = await sql`select count(*)::int as n from orders.orders`;
      if ((row?.open as number) + Math.max(0, accepted.length - (rows[0]?.n as number)) === 0) return;
      await sleep(1000);
    }
  };
  await drain();
  const drainSeconds = (Date.now() - lastFaultAt) / 1000;
  const throughput = accepted.length / ((Date.now() - startedAt) / 1000);

  // Overload: an open-loop arrival rate well above what the workers just sustained, for a fixed time.
  const overloadSeconds = Number(args['overload-seconds']);
  const overload =
    overloadSeconds > 0 ? await runOverload(client, overloadSeconds, throughput, accepted, all) : undefined;
  if (overload) {
    const stoppedAt = Date.now();
    await drain();
    overload.drainSeconds = (Date.now() - stoppedAt) / 1000;
  }
  clearInterval(sampler);

  const connection = await Connection.connect({ address: devServer.address });
  const temporal = new Client({
    connection,
    dataConverter: loadPayloadProtection(loadConfig(common)).dataConverter,
  });
  const results = await checkInvariants(sql, temporal, accepted, startingStock);
  results.push({
    name: 'no unexpected 5xx (bad input never breaks the API)',
    checked: client.stats.requests,
    violations: client.stats.unexpected5xx.map((e) => `${e.path} ${e.status} ${e.body}`),
  });
  const statusCounts =
    (await sql`select status, count(*)::int as n from orders.orders group by status order by status`) as unknown as Array<{
      status: string;
      n: number;
    }>;
  const injected = SERVICE_NAMES.reduce((sum, service) => {
    const text = readFileSync(path.join(runDir, `worker-${service}.log`), 'utf8');
    return sum + (text.match(/injected (transient fault|lost completion)/g)?.length ?? 0);
  }, 0);

  if (overload) {
    results.push({
      name: 'overload: every request got an answer (no silent time-out)',
      checked: overload.arrivals,
      violations: overload.unanswered,
    });
  }
  const overloadFigures = overload
    ? [
        `| overload: arrival rate × duration | ${overload.rate}/s × ${overloadSeconds} s (${(overload.rate / throughput).toFixed(1)}× the ${throughput.toFixed(1)}/s sustained under chaos) |`,
        `| overload: first answers | ${Object.entries(overload.firstStatus)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')} |`,
        `| overload: first-answer latency p50 / p99 | ${overload.p50.toFixed(0)} / ${overload.p99.toFixed(0)} ms |`,
        `| overload: orders accepted / drain after load stopped | ${overload.accepted} / ${overload.drainSeconds.toFixed(1)} s |`,
        `| overload: peak RSS per process during overload (MiB) | ${overload.peakRss} |`,
      ]
    : [];
  const figures = [
    `| figure | value |`,
    `|---|---|`,
    `| seed | ${SEED} |`,
    `| orders placed in the chaos phase / accepted in all | ${placed} / ${accepted.length} |`,
    `| final statuses | ${statusCounts.map((s) => `${s.status} ${s.n}`).join(', ')} |`,
    `| client answers | ${
      Object.entries(outcomes)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '-'
    } |`,
    `| bad inputs sent -> status | ${Object.entries(badInputResults)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
    `| client retries (503/429, connection) | ${client.stats.retriesUnavailable}, ${client.stats.retriesConnection} |`,
    `| faults: processes killed (SIGKILL) | ${all.reduce((s, p) => s + p.kills, 0)} (${[...workers].map(([s, p]) => `${s} ${p.kills}`).join(', ')}, api ${api.kills}) |`,
    `| unplanned exits restarted by the supervisor | ${all.map((p) => `${p.spec.name} ${p.crashes}`).join(', ')} |`,
    `| faults: restarts | Temporal ${faultCounts['restart-temporal'] ?? 0}, Postgres ${faultCounts['restart-db'] ?? 0}, API ${faultCounts['restart-api'] ?? 0} |`,
    `| faults: injected transient activity failures | ${injected} (before the work: rate ${args['fault-rate']}; after it, lost completions: rate ${args['after-fault-rate']}; +${args['latency-ms']} ms per attempt) |`,
    `| time placing orders | ${placingSeconds.toFixed(1)} s |`,
    `| time to drain after the last fault | ${drainSeconds.toFixed(1)} s |`,
    `| peak RSS per process (MiB) | ${all.map((p) => `${p.spec.name} ${p.peakRssMiB.toFixed(0)}`).join(', ')} |`,
    ...overloadFigures,
  ].join('\n');
  const violations = results.reduce((sum, r) => sum + r.violations.length, 0);
  const report = `## Chaos run (seed ${SEED}, ${ORDERS} orders)\n\n${figures}\n\n${invariantTable(results)}\n\n**invariant violations: ${violations}**\n`;
  console.log(`\n${report}`);
  for (const r of results) for (const v of r.violations.slice(0, 10)) console.log(`  ✗ ${r.name}: ${v}`);
  writeFileSync(path.join(runDir, 'report.md'), report);
  writeFileSync(
    path.join(runDir, 'report.json'),
    JSON.stringify(
      { seed: SEED, orders: ORDERS, results, outcomes, faultCounts, injected, drainSeconds },
      null,
      2,
    ),
  );
  if (args.report) writeFileSync(args.report, report);

  await connection.close();
  await sql.end();
  for (const proc of all) await proc.stop(10_000);
  for (const proc of all) proc.close();
  await devServer.stop();
  await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
  return violations === 0 ? 0 : 1;
}

interface OverloadResult {
  rate: number;
  arrivals: number;
  accepted: number;
  firstStatus: Record<string, number>;
  p50: number;
  p99: number;
  unanswered: string[];
  peakRss: string;
  drainSeconds: number;
}

/**
 * Sends orders at `factor` × the sustained throughput for `seconds`, open loop (arrivals never wait for answers);
 * each arrival then behaves like a good client (retries 503/429). Every accepted order joins `accepted`.
 */
async function runOverload(
  client: ChaosClient,
  seconds: number,
  throughput: number,
  accepted: AcceptedOrder[],
  processes: ManagedProcess[],
): Promise<OverloadResult> {
  const rate =
    Number(args['overload-rate']) || Math.max(5, Math.round(throughput * Number(args['overload-factor'])));
  log(`overload: ${rate} orders/s for ${seconds} s`);
  for (const proc of processes) proc.peakRssMiB = 0;
  const firstStatus: Record<string, number> = {};
  const latencies: number[] = [];
  const unanswered: string[] = [];
  let acceptedHere = 0;
  const runs: Promise<void>[] = [];
  const begin = Date.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const wait = begin + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    const key = `chaos-${SEED}-overload-${i}`;
    const body = orderBody('ok', i);
    runs.push(
      (async () => {
        const t = Date.now();
        let first: string;
        try {
          first = String(
            (await client.once('POST', '/v1/orders', JSON.stringify(body), { 'idempotency-key': key }))
              .status,
          );
        } catch (err) {
          first = 'no answer';
          unanswered.push(`${key}: ${(err as Error).message}`);
        }
        latencies.push(Date.now() - t);
        firstStatus[first] = (firstStatus[first] ?? 0) + 1;
        const reply = await client.send('POST', '/v1/orders', body, { 'idempotency-key': key });
        if (reply.status === 202 || reply.status === 200) {
          accepted.push({ key, orderId: String(reply.body?.orderId) });
          acceptedHere += 1;
        }
      })(),
    );
  }
  await Promise.all(runs);
  const { percentile } = await import('../../tools/bench/stats.js');
  return {
    rate,
    arrivals: total,
    accepted: acceptedHere,
    firstStatus,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    unanswered,
    peakRss: processes.map((p) => `${p.spec.name} ${p.peakRssMiB.toFixed(0)}`).join(', '),
    drainSeconds: 0,
  };
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
