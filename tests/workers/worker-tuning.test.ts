/** WORKER_MAX_* settings reach the real Temporal worker of a service; unset ones keep the SDK's defaults. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import type { Database } from '../../db/client.js';
import { SERVICE_WORKERS } from '../../workers/registry.js';
import { createServiceWorker } from '../../workers/service-worker.js';
import { installQuietRuntime } from '../support/quiet-runtime.js';

let env: TestWorkflowEnvironment;
let builds = 0;

beforeAll(async () => {
  installQuietRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServer') } },
  });
});

afterAll(async () => {
  await env?.teardown();
});

/** The payments worker as the process would create it from this environment (no activity runs, so no db). */
async function paymentsWorkerOptions(vars: Record<string, string>) {
  // A build id per call: the runtime refuses two live workers of one queue and build.
  builds += 1;
  const config = loadConfig({ LOG_LEVEL: 'error', WORKER_BUILD_ID: `tuning-${builds}`, ...vars });
  const worker = await createServiceWorker(SERVICE_WORKERS.payments, {
    connection: env.nativeConnection,
    config,
    deps: { db: {} as Database },
    dataConverter: loadPayloadProtection(config).dataConverter,
  });
  // Run and drain at once: a worker holds its connection until it has shut down.
  const running = worker.run();
  worker.shutdown();
  await running;
  const { tuner, activityTaskPollerBehavior, workflowTaskPollerBehavior, maxCachedWorkflows } =
    worker.options;
  const slots = (supplier: unknown) => (supplier as { numSlots?: number }).numSlots;
  return {
    activitySlots: slots(tuner.activityTaskSlotSupplier),
    localActivitySlots: slots(tuner.localActivityTaskSlotSupplier),
    workflowTaskSlots: slots(tuner.workflowTaskSlotSupplier),
    maxCachedWorkflows,
    activityPolls: activityTaskPollerBehavior,
    workflowPolls: workflowTaskPollerBehavior,
  };
}

describe('worker tuning from the environment', () => {
  it('applies the configured slots, cache size and pollers', async () => {
    const options = await paymentsWorkerOptions({
      WORKER_MAX_CONCURRENT_ACTIVITIES: '7',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '9',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '5',
      WORKER_MAX_CACHED_WORKFLOWS: '42',
      WORKER_MAX_TASK_POLLS: '3',
    });
    expect(options).toEqual({
      activitySlots: 7,
      localActivitySlots: 9,
      workflowTaskSlots: 5,
      maxCachedWorkflows: 42,
      activityPolls: { type: 'simple-maximum', maximum: 3 },
      workflowPolls: { type: 'simple-maximum', maximum: 3 },
    });
  });

  it('keeps the SDK defaults when nothing is set', async () => {
    const options = await paymentsWorkerOptions({});
    expect(options.activitySlots).toBe(100);
    expect(options.workflowTaskSlots).toBe(40);
    expect(options.maxCachedWorkflows).toBeGreaterThan(42);
  });

  it('refuses values that would stall a worker', () => {
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toThrow(
      /WORKER_MAX_CONCURRENT_ACTIVITIES/,
    );
    expect(() => loadConfig({ WORKER_MAX_TASK_POLLS: '1' })).toThrow(/WORKER_MAX_TASK_POLLS/);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/0 \(no cache\) or at least 2/);
    expect(() =>
      loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20' }),
    ).toThrow(/must not exceed WORKER_MAX_CACHED_WORKFLOWS/);
  });

  it('caps the workflow-task slots at a smaller cache', async () => {
    const options = await paymentsWorkerOptions({ WORKER_MAX_CACHED_WORKFLOWS: '8' });
    expect(options.workflowTaskSlots).toBe(8);
    expect(options.maxCachedWorkflows).toBe(8);
  });
});
