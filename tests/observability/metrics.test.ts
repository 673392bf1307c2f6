/**
 * Against a real stack: a known mix of orders moves the metrics on /metrics by exactly that mix, the workers'
 * HTTP server and the SDK exporter answer, and the workers' log lines carry the ids operators search by.
 */

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { parseExposition, type Sample } from '../../harness/prometheus-text.js';
import { compareSeries } from '../operator/compare.js';
import {
  assertMixOutcomes,
  EXPECTED_HTTP_SERIES,
  EXPECTED_SAGA_SERIES,
  type MixResult,
  placeOrderMix,
} from '../operator/mix.js';

let stack: TestStack;
/** Every JSON line the stack logged (SDK, workflow, activity and API lines). */
const logLines: string[] = [];
let mix: MixResult[];

beforeAll(async () => {
  // As npm start runs it: one registry for the workers and the API, the workers' own server, the SDK's exporter.
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    workerEndpoints: true,
    env: { LOG_LEVEL: 'info' },
    logDestination: { write: (line: string) => logLines.push(line) },
  });
  mix = await placeOrderMix(stack.baseUrl, stack.client);
});

afterAll(async () => {
  await stack?.stop();
});

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await response.text());
}

describe('metrics after a known mix of orders', () => {
  it('ran the mix as planned', () => {
    expect(() => assertMixOutcomes(mix)).not.toThrow();
  });

  it("the API's /metrics shows exactly the mix: orders, outcomes, steps, failures, compensations, HTTP", async () => {
    const samples = await scrape(`${stack.baseUrl}/metrics`);
    expect(compareSeries(EXPECTED_SAGA_SERIES, samples)).toEqual([]);
    expect(compareSeries(EXPECTED_HTTP_SERIES, samples, false)).toEqual([]);
  });

  it("the workers' own server answers /metrics, /healthz and /readyz", async () => {
    expect(compareSeries(EXPECTED_SAGA_SERIES, await scrape(`${stack.workerHttpUrl}/metrics`))).toEqual([]);
    const health = await fetch(`${stack.workerHttpUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${stack.workerHttpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { 'worker:orders': 'ok', 'worker:payments': 'ok', database: 'ok' },
    });
    expect((await fetch(`${stack.workerHttpUrl}/nope`)).status).toBe(404);
  });

  it("exports the Temporal SDK's worker metrics in Prometheus format", async () => {
    const samples = await scrape(stack.sdkMetricsUrl ?? '');
    const value = (name: string, labels: Record<string, string>) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    expect(value('temporal_workflow_completed_total', { workflow_type: 'orderSaga' })).toBe(8);
    // The orders service's bookkeeping runs as local activities in the saga worker: 32 status writes (the first
    // records the order), and none of them goes through the `orders` queue as a remote activity.
    const localRuns = 'temporal_local_activity_execution_latency_seconds_count';
    expect(value(localRuns, { task_queue: 'orders' })).toBe(32);
    const scheduleToStart = 'temporal_activity_schedule_to_start_latency_seconds_count';
    expect(value(scheduleToStart, { task_queue: 'orders' })).toBe(0);
    for (const queue of ['inventory', 'payments', 'shipping']) {
      expect(value(scheduleToStart, { task_queue: queue })).toBeGreaterThan(0);
    }
    expect(
      samples.some((s) => s.name === 'temporal_workflow_task_schedule_to_start_latency_seconds_count'),
    ).toBe(true);
    expect(samples.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);
  });
});

describe('worker logs', () => {
  const lines = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('every activity and workflow line carries service, orderId and workflowId', () => {
    const fromOrders = lines().filter((l) => l.sdkComponent === 'activity' || l.sdkComponent === 'workflow');
    expect(fromOrders.length).toBeGreaterThan(40);
    for (const line of fromOrders) {
      expect(line).toMatchObject({ service: expect.any(String), orderId: expect.any(String) });
      expect(line.workflowId).toBe(`order-${line.orderId}`);
    }
    const services = new Set(fromOrders.map((l) => l.service));
    expect([...services].sort()).toEqual(['inventory', 'orders', 'payments', 'shipping']);
  });

  it('a failed attempt is logged with a readable error, its failure type and its order', () => {
    const declined = lines().find(
      (l) =>
        l.msg === 'Activity failed' &&
        (l.error as { failureType?: string })?.failureType === 'PaymentDeclined',
    );
    expect(declined).toMatchObject({
      service: 'payments',
      orderId: expect.any(String),
      error: { type: 'ApplicationFailure', message: 'card declined', nonRetryable: true },
    });
  });

  it('one service field per line, and no payment token, address or task token anywhere', () => {
    const text = logLines.join('');
    for (const line of logLines) expect(line.match(/"service":/g)).toHaveLength(1);
    expect(text).not.toMatch(/tok_(ok|declined|flaky|refund_flaky)/);
    expect(text).not.toContain('Analytical St');
    expect(text).not.toContain('taskToken');
  });
});
