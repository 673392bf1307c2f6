/**
 * `npm run bench:tracing [-- --quick] [--orders N] [--concurrency C]`: what tracing costs. The saga through the
 * API (one process per service worker, a Temporal dev server, a fresh Postgres database), closed loop, three
 * times in one run on the same server and database: tracing off (no OTLP endpoint), on at 100 % sampling, on at
 * 10 % (parentbased_traceidratio). The spans go to an OTLP/HTTP receiver in this process (harness/otlp-receiver.ts,
 * its CPU is not counted). Prints a table (ratios against the off row of the same run) and writes it to
 * `.data/reports/bench/tracing.md`; asserts nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { PROJECT_ROOT } from '../../core/config.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { startDevServer } from '../../harness/dev-server.js';
import { requireTemporalCli } from '../../harness/dev-tools.mjs';
import { freePort } from '../../harness/free-port.js';
import { type ReceivedSpan, startOtlpReceiver } from '../../harness/otlp-receiver.js';
import { cpuSeconds } from '../../harness/proc-stats.js';
import { ManagedProcess, supervisedSpec, tsxCommand } from '../../harness/processes.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import { BENCH_ORDER } from './direct.js';
import { closedLoop } from './load.js';
import { percentile } from './stats.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    orders: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    out: { type: 'string', default: path.join(PROJECT_ROOT, '.data', 'reports', 'bench') },
  },
});
const ORDERS = Number(args.orders ?? (args.quick ? 40 : 300));
const CONCURRENCY = Number(args.concurrency);
const log = (line: string) =>
  console.error(`[bench:tracing ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The three configurations, each a set of OTEL_* variables for every process. */
const MODES = [
  { name: 'tracing off', env: {} },
  { name: 'on, 100 % sampled', env: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
  {
    name: 'on, 10 % sampled',
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  },
] as const;

interface Result {
  mode: string;
  ordersPerSecond: number;
  p50: number;
  p99: number;
  workersCpuMs: number;
  apiCpuMs: number;
  spansPerOrder: number;
  tracedOrders: number;
  /** The span tree of one traced order of the window. */
  sampleTree?: string;
}

/** The spans of one trace as an indented tree: name, process, duration. */
export function spanTree(spans: ReceivedSpan[]): string {
  const children = new Map<string | undefined, ReceivedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (const span of list) {
      const ms = Number(span.endNs - span.startNs) / 1e6;
      const name = `${'  '.repeat(depth)}${span.name}${span.statusCode === 2 ? ' (ERROR)' : ''}`;
      lines.push(`${name.padEnd(64)} ${span.service.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const runDir = path.join(PROJECT_ROOT, '.data', 'bench', `tracing-${Date.now()}`);
  mkdirSync(runDir, { recursive: true });
  const bundle = path.join(runDir, 'workflows.js');
  await writeWorkflowBundle(bundle, { quiet: true });
  const receiver = await startOtlpReceiver();
  const devServer = await startDevServer({ cli: requireTemporalCli(), port: await freePort() });
  const database = await createThrowawayPostgres(args['database-url'] as string, 'bench_tracing');
  const results: Result[] = [];
  try {
    const setup = await openDatabase({ url: database.url, poolSize: 2 });
    await migrateDatabase(setup);
    await upsertProduct(setup.db, { sku: 'B-1', name: 'B-1', priceCents: 1000, available: 100_000_000 });
    await setup.close();
    for (const mode of MODES)
      results.push(await measure(mode, { bundle, runDir, receiver, devServer, database }));
  } finally {
    await devServer.stop();
    await database.drop();
    await receiver.close();
  }
  const sample = results.find((r) => r.sampleTree)?.sampleTree ?? '';
  const table = `${render(results)}\n\nOne traced order's spans (process, duration):\n\n\`\`\`\n${sample}\n\`\`\``;
  console.log(table);
  mkdirSync(args.out as string, { recursive: true });
  writeFileSync(path.join(args.out as string, 'tracing.md'), `${table}\n`);
  writeFileSync(path.join(args.out as string, 'tracing.json'), `${JSON.stringify(results, null, 2)}\n`);
}

async function measure(
  mode: (typeof MODES)[number],
  run: {
    bundle: string;
    runDir: string;
    receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
    devServer: Awaited<ReturnType<typeof startDevServer>>;
    database: Awaited<ReturnType<typeof createThrowawayPostgres>>;
  },
): Promise<Result> {
  const apiPort = await freePort();
  const env = {
    DATABASE_URL: run.database.url,
    TEMPORAL_ADDRESS: run.devServer.address,
    LOG_LEVEL: 'error',
    PAYLOAD_ENCRYPTION: 'false',
    ...(mode.name === 'tracing off'
      ? {}
      : { OTEL_EXPORTER_OTLP_ENDPOINT: run.receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ...mode.env,
  };
  const spec = (name: string, file: string, extra: string[], more: Record<string, string>) =>
    new ManagedProcess(
      supervisedSpec({ name, ...tsxCommand(file, extra), env: { ...env, ...more } }, run.runDir),
    );
  const workers = SERVICE_NAMES.map((service) =>
    spec(`worker-${service}`, 'workers/main.ts', ['--service', service, '--workflow-bundle', run.bundle], {
      WORKER_HTTP_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
    }),
  );
  const api = spec('api', 'api/server.ts', [], { PORT: String(apiPort) });
  const processes = [api, ...workers];
  for (const proc of processes) proc.start();
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  try {
    await api.waitReady(`${baseUrl}/readyz`, 90_000);
    const traceIds = new Set<string>();
    const placeOnce = async () => {
      const response = await fetch(`${baseUrl}/v1/orders?wait=30`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(BENCH_ORDER),
      });
      const body = (await response.json()) as { status?: string };
      if (response.status !== 200 || body.status !== 'COMPLETED') {
        throw new Error(`order answered ${response.status} ${body.status}`);
      }
      const traceId = response.headers.get('x-trace-id');
      if (traceId) traceIds.add(traceId);
    };
    // Warm-up: JIT, pools, the workflow cache, and the workers polling.
    await closedLoop(4, 20, placeOnce);
    traceIds.clear();
    const pids = workers.map((w) => w.pid);
    const cpuNow = () => [pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0), cpuSeconds(api.pid)];
    const before = cpuNow();
    const spansBefore = run.receiver.spans.length;
    const { latencies, seconds } = await closedLoop(CONCURRENCY, ORDERS, placeOnce);
    const [workersCpu = 0, apiCpu = 0] = cpuNow().map((s, i) => ((s - (before[i] ?? 0)) / ORDERS) * 1000);
    // The batch processors export every 5 s: wait for the window's spans before counting them.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const received = run.receiver.spans.slice(spansBefore).filter((s) => traceIds.has(s.traceId));
    const windowSpans = received.length;
    const [firstTrace] = traceIds;
    const result: Result = {
      mode: mode.name,
      ordersPerSecond: ORDERS / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      workersCpuMs: workersCpu,
      apiCpuMs: apiCpu,
      spansPerOrder: traceIds.size > 0 ? windowSpans / traceIds.size : 0,
      tracedOrders: traceIds.size,
      ...(firstTrace ? { sampleTree: spanTree(received.filter((span) => span.traceId === firstTrace)) } : {}),
    };
    log(`${mode.name}: ${result.ordersPerSecond.toFixed(1)}/s, ${result.tracedOrders} orders traced`);
    return result;
  } finally {
    await Promise.allSettled(processes.map((proc) => proc.stop(10_000)));
    for (const proc of processes) proc.close();
  }
}

function render(results: Result[]): string {
  const off = results[0] as Result;
  const ratio = (value: number, base: number) => (base > 0 ? `${(value / base).toFixed(2)}×` : '-');
  const lines = [
    `Tracing cost: the saga through the API, closed loop c=${CONCURRENCY}, ${ORDERS} orders per row, one run`,
    '',
    '| mode | orders/s | × off | p50 ms | p99 ms | workers CPU ms/order | API CPU ms/order | CPU × off | orders traced | spans per traced order |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.mode} | ${r.ordersPerSecond.toFixed(1)} | ${ratio(r.ordersPerSecond, off.ordersPerSecond)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.workersCpuMs.toFixed(1)} | ${r.apiCpuMs.toFixed(1)} | ${ratio(r.workersCpuMs + r.apiCpuMs, off.workersCpuMs + off.apiCpuMs)} | ${r.tracedOrders} | ${r.spansPerOrder.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
