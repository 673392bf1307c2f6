/**
 * Observability with the real things: `npm start` on free ports, scraped by a real Prometheus running the committed
 * scrape config, a known mix of orders, then every expected series through Prometheus's query API (exact values),
 * every Grafana dashboard query, and the Temporal UI in headless Chromium (screenshots in the report folder).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderWorkflowId } from '../../contracts/orders.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { freePort } from '../../harness/free-port.js';
import { launchChromium, notShown, notShownInFrames, onPage } from './chromium.js';
import { actualFamily, expectedFamily } from './compare.js';
import { committedDashboardQueries, PANELS_WITH_DATA, promqlFor } from './dashboard.js';
import { PROMETHEUS_BINARY } from './debian-tools.js';
import {
  assertMixOutcomes,
  EXPECTED_HTTP_SERIES,
  EXPECTED_SAGA_SERIES,
  type ExpectedSeries,
  type MixResult,
  placeOrderMix,
} from './mix.js';
import { type NpmStartStack, startNpmStartStack } from './npm-start-stack.js';
import {
  type PrometheusServer,
  prometheusConfigFor,
  queryPrometheus,
  startPrometheus,
  waitForQueryValue,
} from './prometheus.js';
import { OperatorReport } from './report.js';
import { stopAll } from './teardown.js';

const SCRAPE_CONFIG = path.join(PROJECT_ROOT, 'deploy', 'prometheus', 'prometheus.yml');
/** The committed config's targets for `npm start`, re-pointed at the ports this run uses. */
const COMMITTED_API_TARGET = '127.0.0.1:3000';
const COMMITTED_SDK_TARGET = '127.0.0.1:9464';
const PANELS = committedDashboardQueries();

const report = new OperatorReport('observability');
let workDir: string;
let stack: NpmStartStack;
let prometheus: PrometheusServer;
let connection: Connection;
let mix: MixResult[];

/** Every family of the expected series, each once: its name and how many series it must hold. */
function families(expected: readonly ExpectedSeries[]): Array<{ name: string; count: number }> {
  return [...new Set(expected.map((s) => s.name))].map((name) => ({
    name,
    count: expected.filter((s) => s.name === name).length,
  }));
}

/** A PromQL `sum by (label)` answer as `{ value of label: value }`. */
async function sumBy(expr: string, label: string): Promise<Record<string, number>> {
  const samples = await queryPrometheus(prometheus.url, expr);
  return Object.fromEntries(samples.map((s) => [s.labels[label] ?? '', s.value]));
}

describe('observability of `npm start`, through Prometheus, Grafana queries and the Temporal UI', () => {
  beforeAll(async () => {
    try {
      workDir = mkdtempSync(path.join(os.tmpdir(), 'operator-observability-'));
      stack = await startNpmStartStack({
        temporalCli: inject('temporalCli'),
        natsUrl: inject('natsUrl'),
        dataDir: workDir,
        npmStartLog: report.file('npm-start.log'),
        temporalLog: report.file('temporal.log'),
      });
      const configPath = path.join(workDir, 'prometheus.yml');
      const targets = {
        [COMMITTED_API_TARGET]: new URL(stack.apiUrl).host,
        [COMMITTED_SDK_TARGET]: stack.sdkMetricsAddress,
      };
      writeFileSync(configPath, prometheusConfigFor(SCRAPE_CONFIG, targets));
      prometheus = await startPrometheus({
        binary: PROMETHEUS_BINARY,
        configPath,
        dataDir: path.join(workDir, 'tsdb'),
        port: await freePort(),
        logFile: report.file('prometheus.log'),
      });
      await waitForQueryValue(prometheus.url, 'count(up == 1)', 2);

      connection = await Connection.connect({ address: stack.temporalAddress });
      const { dataConverter } = loadPayloadProtection(loadConfig({ PAYLOAD_KEYS: stack.payloadKeys }));
      mix = await placeOrderMix(stack.apiUrl, new Client({ connection, dataConverter }));
      // A metric check on a mix that went otherwise would prove nothing.
      assertMixOutcomes(mix);
      await waitForQueryValue(prometheus.url, 'sum(saga_orders_finished_total)', mix.length);
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few more scrapes: every final value is in
    } catch (err) {
      report.failedSetup(err);
      throw err;
    }
  });

  afterEach(({ task }) => report.finish(task));

  afterAll(async () => {
    report.write();
    await stopAll([
      () => connection?.close(),
      () => prometheus?.stop(),
      () => stack?.stop(),
      async () => workDir && rmSync(workDir, { recursive: true, force: true }),
    ]);
  }, 120_000);

  describe('series in Prometheus', () => {
    it('scrapes exactly the two targets of `npm start` (API /metrics, SDK metrics), both up', async () => {
      const up = await queryPrometheus(prometheus.url, 'up');
      const byInstance = Object.fromEntries(up.map((s) => [s.labels.instance ?? '', s.value]));
      const expected = { [new URL(stack.apiUrl).host]: 1, [stack.sdkMetricsAddress]: 1 };
      expect(report.compared(expected, byInstance)).toEqual(expected);
    });

    for (const [expected, exhaustive] of [
      [EXPECTED_SAGA_SERIES, true],
      [EXPECTED_HTTP_SERIES, false],
    ] as const) {
      for (const { name, count } of families(expected)) {
        const title = exhaustive
          ? `${name}: exactly the ${count} expected series, each with its exact value`
          : `${name}: the ${count} expected series, each with its exact value (others may exist)`;
        it(title, async () => {
          const want = expectedFamily(expected, name);
          const samples = await queryPrometheus(prometheus.url, name);
          expect(report.compared(want, actualFamily(expected, samples, name, exhaustive))).toEqual(want);
        });
      }
    }

    it('SDK temporal_workflow_completed_total counts the 8 orders', async () => {
      const completed = await sumBy(
        'sum by (workflow_type) (temporal_workflow_completed_total{workflow_type="orderSaga"})',
        'workflow_type',
      );
      expect(report.compared({ orderSaga: 8 }, completed)).toEqual({ orderSaga: 8 });
    });

    it('SDK activity schedule-to-start latency has samples on every service queue', async () => {
      const byQueue = await sumBy(
        'sum by (task_queue) (temporal_activity_schedule_to_start_latency_seconds_count)',
        'task_queue',
      );
      // The orders queue runs its bookkeeping as local activities, so it has none here.
      const queues = ['inventory', 'payments', 'shipping'];
      report.compared('> 0 on inventory, payments, shipping', byQueue);
      for (const queue of queues) expect(byQueue[queue] ?? 0, queue).toBeGreaterThan(0);
    });

    it('SDK local activities: 32 bookkeeping writes on orders (the status writes; the first records the order)', async () => {
      const byQueue = await sumBy(
        'sum by (task_queue) (temporal_local_activity_execution_latency_seconds_count)',
        'task_queue',
      );
      expect(report.compared({ orders: 32 }, byQueue)).toEqual({ orders: 32 });
    });
  });

  describe('Grafana dashboard queries', () => {
    it('has every panel that must show data', () => {
      const titles = PANELS.map((panel) => panel.title);
      expect(
        report.compared(
          [],
          PANELS_WITH_DATA.filter((title) => !titles.includes(title)),
        ),
      ).toEqual([]);
    });

    for (const panel of PANELS) {
      const mustHaveData = (PANELS_WITH_DATA as readonly string[]).includes(panel.title);
      it(`"${panel.title}": every query runs${mustHaveData ? ', with data' : ''}`, async () => {
        const results = await Promise.all(
          panel.exprs.map((expr) =>
            queryPrometheus(prometheus.url, promqlFor(expr)).then(
              (samples) => ({ expr, series: samples.length, error: null }),
              (err: Error) => ({ expr, series: 0, error: err.message }),
            ),
          ),
        );
        const series = results.reduce((sum, r) => sum + r.series, 0);
        report.compared({ errors: [], series: mustHaveData ? '> 0' : 'any' }, results);
        expect(results.flatMap((r) => (r.error ? [r.error] : []))).toEqual([]);
        if (mustHaveData) expect(series).toBeGreaterThan(0);
      });
    }
  });

  describe('the Temporal UI in headless Chromium', () => {
    let browser: Browser;
    const failed = () => mix.filter((m) => m.status === 'FAILED');
    /** The undeliverable order: it ran all three compensations. */
    const compensated = () => {
      const order = mix.find((m) => m.expect.failureCode === 'AddressUndeliverable');
      if (!order) throw new Error('the mix has no undeliverable order');
      return orderWorkflowId(order.orderId);
    };
    const orderPage = () => `${stack.temporalUiUrl}/namespaces/default/workflows/${compensated()}`;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('lists the failed orders by OrderStatus="FAILED", the compensated one among them', async () => {
      const query = encodeURIComponent('OrderStatus="FAILED"');
      const url = `${stack.temporalUiUrl}/namespaces/default/workflows?query=${query}`;
      const missing = await onPage(browser, url, report.file('ui-orders-failed.png'), (page) =>
        notShown({
          [`"${failed().length} Workflows"`]: page.getByText(`${failed().length} Workflows`, { exact: true }),
          [`row ${compensated()}`]: page.locator(`a:has-text("${compensated()}")`),
        }),
      );
      expect(report.compared([], missing)).toEqual([]);
    });

    it("shows the compensated order's timeline with its three compensations", async () => {
      const texts = ['cancelShipment', 'refundPayment', 'releaseStock', '(compensation)'];
      const missing = await onPage(
        browser,
        orderPage(),
        report.file('ui-compensated-order-timeline.png'),
        (page) => notShown(Object.fromEntries(texts.map((text) => [text, page.getByText(text)]))),
      );
      expect(report.compared([], missing)).toEqual([]);
    });

    it("shows the compensated order's event history (compact view, activity types)", async () => {
      const missing = await onPage(
        browser,
        orderPage(),
        report.file('ui-compensated-order-history.png'),
        async (page) => {
          await page.getByText('Event History').first().click();
          await page.getByText('Compact').first().click();
          return notShown({ 'Activity Type': page.getByText('Activity Type') });
        },
      );
      expect(report.compared([], missing)).toEqual([]);
    });

    it("shows the compensated order's summary and current details (User Metadata)", async () => {
      const order = mix.find((m) => orderWorkflowId(m.orderId) === compensated());
      const texts = [`Order ${order?.orderId} for cust-observability`, 'FAILED — done'];
      const missing = await onPage(
        browser,
        orderPage(),
        report.file('ui-compensated-order-details.png'),
        async (page) => {
          await page.getByText('User Metadata').first().click();
          return notShownInFrames(page, texts);
        },
      );
      expect(report.compared([], missing)).toEqual([]);
    });

    it("shows the compensated order's search attributes (what operators filter by)", async () => {
      const texts = ['"OrderStatus": "FAILED"', '"CustomerId": "cust-observability"'];
      const missing = await onPage(
        browser,
        orderPage(),
        report.file('ui-compensated-order-search-attributes.png'),
        async (page) => {
          await page.getByText('Search Attributes').first().click();
          return notShown(Object.fromEntries(texts.map((text) => [text, page.getByText(text)])));
        },
      );
      expect(report.compared([], missing)).toEqual([]);
    });
  });
});
