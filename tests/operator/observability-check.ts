/**
 * `npm run observability:check`: proof with the real things. Installs Prometheus and Chromium from Debian if
 * missing, starts `npm start` on free ports, scrapes it with a Prometheus running the committed scrape config,
 * places a known mix of orders, checks through Prometheus's query API that every expected series holds exactly
 * the right value and that every dashboard query works, then checks the Temporal UI in headless Chromium and
 * saves screenshots to .data/screenshots/. Exits non-zero on any failed check.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { ensureDebianPackage } from '../../harness/debian-packages.js';
import { freePort } from '../../harness/free-port.js';
import { checkTemporalUi } from './chromium.js';
import { compareFamily } from './compare.js';
import { dashboardQueries, promqlFor } from './dashboard.js';
import {
  assertMixOutcomes,
  EXPECTED_HTTP_SERIES,
  EXPECTED_SAGA_SERIES,
  type MixResult,
  placeOrderMix,
} from './mix.js';
import { type CheckedStack, startCheckedStack } from './npm-start-stack.js';
import { prometheusConfigFor, queryPrometheus, startPrometheus } from './prometheus.js';

const WORK_DIR = path.join(PROJECT_ROOT, '.data', 'observability-check');
const SCREENSHOT_DIR = path.join(PROJECT_ROOT, '.data', 'screenshots');
const SCRAPE_CONFIG = path.join(PROJECT_ROOT, 'deploy', 'prometheus', 'prometheus.yml');
const DASHBOARD = path.join(PROJECT_ROOT, 'deploy', 'grafana', 'dashboards', 'order-saga.json');
/** Dashboard panels that must show data after the mix (the others may legitimately be empty, e.g. 5xx ratio). */
const PANELS_WITH_DATA = [
  'Order rate by outcome',
  'Failures by reason',
  'Order duration (acceptance to terminal)',
  'Step latency p95',
  'Step failures by service',
  'Compensations run',
  'Compensation failures (stuck compensations)',
  'HTTP error rate by route and status',
  'Activity schedule-to-start latency p95 by task queue',
  'Task slots available',
];

const log = (line: string) => process.stdout.write(`[observability] ${line}\n`);

interface Check {
  name: string;
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a PromQL scalar-like query until it equals `value`. */
async function waitForValue(url: string, expr: string, value: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await queryPrometheus(url, expr);
    if (samples[0]?.value === value) return;
    if (Date.now() > deadline)
      throw new Error(`${expr} = ${samples[0]?.value ?? 'no data'}, waited for ${value}`);
    await sleep(500);
  }
}

async function metricChecks(url: string, stack: CheckedStack): Promise<Check[]> {
  const checks: Check[] = [];
  const up = await queryPrometheus(url, 'up');
  checks.push({
    name: `targets up (${up.map((s) => `${s.labels.job}@${s.labels.instance}`).join(', ')})`,
    problems: up.length < 2 || up.some((s) => s.value !== 1) ? [`up = ${JSON.stringify(up)}`] : [],
  });
  for (const [expected, exhaustive] of [
    [EXPECTED_SAGA_SERIES, true],
    [EXPECTED_HTTP_SERIES, false],
  ] as const) {
    for (const name of new Set(expected.map((s) => s.name))) {
      const count = expected.filter((s) => s.name === name).length;
      const samples = await queryPrometheus(url, name);
      checks.push({
        name: `${name}: ${count} series exactly`,
        problems: compareFamily(expected, samples, name, exhaustive),
      });
    }
  }
  const completed = await queryPrometheus(
    url,
    'sum(temporal_workflow_completed_total{workflow_type="orderSaga"})',
  );
  checks.push({
    name: `SDK temporal_workflow_completed_total = 8 (from ${stack.sdkMetricsAddress})`,
    problems: completed[0]?.value === 8 ? [] : [`got ${completed[0]?.value ?? 'no data'}`],
  });
  const queues = await queryPrometheus(
    url,
    'sum by (task_queue) (temporal_activity_schedule_to_start_latency_seconds_count)',
  );
  const byQueue = Object.fromEntries(queues.map((s) => [s.labels.task_queue, s.value]));
  checks.push({
    name: 'SDK activity schedule-to-start: some on every service queue (orders bookkeeping is local)',
    problems: ['inventory', 'payments', 'shipping'].every((q) => (byQueue[q] ?? 0) > 0)
      ? []
      : [`got ${JSON.stringify(byQueue)}`],
  });
  const local = await queryPrometheus(
    url,
    'sum by (task_queue) (temporal_local_activity_execution_latency_seconds_count)',
  );
  const localByQueue = Object.fromEntries(local.map((s) => [s.labels.task_queue, s.value]));
  checks.push({
    name: 'SDK local activities: 40 bookkeeping writes on orders (8 creates + 32 status writes)',
    problems: localByQueue.orders === 40 ? [] : [`got ${JSON.stringify(localByQueue)}`],
  });
  return checks;
}

async function dashboardChecks(url: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const panel of dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')))) {
    const problems: string[] = [];
    let rows = 0;
    for (const expr of panel.exprs) {
      try {
        rows += (await queryPrometheus(url, promqlFor(expr))).length;
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    if (PANELS_WITH_DATA.includes(panel.title) && rows === 0) problems.push('no data');
    checks.push({ name: `dashboard "${panel.title}": ${rows} series`, problems });
  }
  const missing = PANELS_WITH_DATA.filter((title) => !checks.some((c) => c.name.includes(`"${title}"`)));
  if (missing.length > 0) checks.push({ name: 'dashboard panels present', problems: missing });
  return checks;
}

async function main(): Promise<void> {
  ensureDebianPackage('prometheus', '/usr/bin/prometheus', log);
  ensureDebianPackage('chromium', '/usr/bin/chromium', log);
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const old of readdirSync(SCREENSHOT_DIR).filter((f) => f.startsWith('temporal-ui-'))) {
    rmSync(path.join(SCREENSHOT_DIR, old));
  }

  log('starting the Temporal dev server and `npm start` on free ports');
  const stack = await startCheckedStack(WORK_DIR);
  const cleanups: Array<() => Promise<void>> = [() => stack.stop()];
  const checks: Check[] = [];
  try {
    log(`stack ready: API ${stack.apiUrl}, Temporal UI ${stack.temporalUiUrl}`);
    const configPath = path.join(WORK_DIR, 'prometheus.yml');
    const apiTarget = new URL(stack.apiUrl).host;
    writeFileSync(
      configPath,
      prometheusConfigFor(SCRAPE_CONFIG, {
        '127.0.0.1:3000': apiTarget,
        '127.0.0.1:9464': stack.sdkMetricsAddress,
      }),
    );
    const prometheus = await startPrometheus({
      binary: '/usr/bin/prometheus',
      configPath,
      dataDir: path.join(WORK_DIR, 'tsdb'),
      port: await freePort(),
      logFile: path.join(WORK_DIR, 'prometheus.log'),
    });
    cleanups.push(() => prometheus.stop());
    log(
      `prometheus ready at ${prometheus.url}, scraping ${apiTarget} and ${stack.sdkMetricsAddress} every 1s`,
    );
    await waitForValue(prometheus.url, 'count(up == 1)', 2);

    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    log('placing the order mix: 3 completed, 2 declined, 1 out of stock, 1 undeliverable, 1 cancelled');
    const { dataConverter } = loadPayloadProtection(loadConfig({ PAYLOAD_KEYS: stack.payloadKeys }));
    const mix: MixResult[] = await placeOrderMix(stack.apiUrl, new Client({ connection, dataConverter }));
    assertMixOutcomes(mix);
    await waitForValue(prometheus.url, 'sum(saga_orders_finished_total)', mix.length);
    await sleep(3_000); // a few more scrapes, so every series has its final value
    checks.push(...(await metricChecks(prometheus.url, stack)));
    checks.push(...(await dashboardChecks(prometheus.url)));

    const compensated = mix.find((m) => m.expect.failureCode === 'AddressUndeliverable');
    if (!compensated) throw new Error('the mix has no undeliverable order');
    const problems: string[] = [];
    let shots: string[] = [];
    try {
      shots = await checkTemporalUi({
        uiUrl: stack.temporalUiUrl,
        namespace: 'default',
        status: 'FAILED',
        expectedCount: mix.filter((m) => m.status === 'FAILED').length,
        workflowId: `order-${compensated.orderId}`,
        expectedTexts: ['cancelShipment', 'refundPayment', 'releaseStock', '(compensation)'],
        detailsTexts: [`Order ${compensated.orderId} for cust-observability`, 'FAILED — done'],
        searchAttributes: ['"OrderStatus": "FAILED"', '"CustomerId": "cust-observability"'],
        screenshotDir: SCREENSHOT_DIR,
      });
    } catch (err) {
      problems.push((err as Error).message);
    }
    checks.push({
      name: `Temporal UI: ${shots.map((s) => path.relative(PROJECT_ROOT, s)).join(', ')}`,
      problems,
    });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => log(`cleanup: ${err}`));
  }

  for (const check of checks) {
    log(`${check.problems.length === 0 ? 'PASS' : 'FAIL'}  ${check.name}`);
    for (const problem of check.problems) log(`        ${problem}`);
  }
  const failed = checks.filter((c) => c.problems.length > 0).length;
  log(`${checks.length - failed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err) => {
  log(`error: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
