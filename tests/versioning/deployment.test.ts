/**
 * Worker deployment versioning on a real dev server: orders started on build A stay pinned to A and finish there
 * after build B is promoted; orders started after the promotion run on B. Once build A is drained (as
 * docs/VERSIONING.md says to), its orders are still read and refused a cancel by the API, from the records.
 */
import { randomUUID } from 'node:crypto';
import { type Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { ORDERS_QUEUE, type OrderInput, type OrderState, orderWorkflowId } from '../../contracts/orders.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { createLogger } from '../../core/logger.js';
import { createTemporalClient } from '../../core/temporal.js';
import { seedCatalog } from '../../db/seed.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { testPayloadEnv } from '../../harness/test-payload-keys.js';
import { createTestDatabase, type TestDatabase } from '../../harness/throwaway-database.js';
import { promoteBuild } from '../../workers/deployments.js';
import { startWorkers, type WorkerHost } from '../../workers/worker-host.js';
import { getOrderQuery } from '../../workflows/definitions.js';
import { stubOrderInput } from '../support/stub-saga.js';

let devServer: DevServer;
let database: TestDatabase;
let connection: Connection;
let client: Client;
/** One key for every build: a new build must read what the old one wrote. */
const payloadEnv = testPayloadEnv();
let dataConverter: DataConverter;
const hosts: WorkerHost[] = [];
/** Orders started on build A (read again after A is drained). */
let onBuildA: OrderInput[] = [];

function configFor(buildId: string, latencyMs: number) {
  return loadConfig({
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: 'error',
    WORKER_VERSIONING: 'true',
    WORKER_BUILD_ID: buildId,
    FAULT_LATENCY_MS: String(latencyMs),
    ...payloadEnv,
  });
}

async function startBuild(buildId: string, latencyMs: number) {
  const config = configFor(buildId, latencyMs);
  const host = await startWorkers({
    services: [...SERVICE_NAMES],
    config,
    logger: createLogger(`build-${buildId}`, 'error'),
    db: database.db,
    dataConverter,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  hosts.push(host);
  await promoteBuild({ client, config, services: SERVICE_NAMES, buildId });
}

async function startOrder(): Promise<OrderInput> {
  const input = stubOrderInput({
    // An id of the API's shape, so the API can read the order back.
    orderId: `ord_${randomUUID().replaceAll('-', '')}`,
    items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1299 }],
    totalCents: 1299,
  });
  await client.workflow.start('orderSaga', {
    taskQueue: ORDERS_QUEUE,
    workflowId: orderWorkflowId(input.orderId),
    args: [input],
  });
  return input;
}

async function pinnedBuild(orderId: string): Promise<string | undefined> {
  const { raw } = await client.workflow.getHandle(orderWorkflowId(orderId)).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return info?.deploymentVersion?.buildId ?? undefined;
}

beforeAll(async () => {
  devServer = await startDevServer({ cli: inject('temporalCli'), port: await freePort() });
  database = await createTestDatabase('pglite');
  await seedCatalog(database.db);
  connection = await Connection.connect({ address: devServer.address });
  const config = configFor('setup', 0);
  dataConverter = loadPayloadProtection(config).dataConverter;
  client = createTemporalClient(connection, config, dataConverter);
});

afterAll(async () => {
  for (const host of hosts.reverse()) await host.shutdown();
  await connection?.close();
  await database?.close();
  await devServer?.stop();
});

describe('worker deployment versioning', () => {
  it('keeps in-flight orders on their build and sends new orders to the promoted one', async () => {
    // Build A is slow, so its orders are still running when build B takes over.
    await startBuild('build-a', 400);
    const before = await Promise.all([startOrder(), startOrder(), startOrder()]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    await startBuild('build-b', 0);
    const after = await Promise.all([startOrder(), startOrder()]);

    const results = await Promise.all(
      [...before, ...after].map(
        (input) => client.workflow.getHandle(orderWorkflowId(input.orderId)).result() as Promise<OrderState>,
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('COMPLETED'));
    for (const input of before) expect(await pinnedBuild(input.orderId)).toBe('build-a');
    for (const input of after) expect(await pinnedBuild(input.orderId)).toBe('build-b');
    onBuildA = before;
  });

  it('after build A is drained, its finished orders are still read (200) and refused a cancel (409)', async () => {
    expect(onBuildA).toHaveLength(3);
    await hosts[0]?.shutdown();
    const pinned = onBuildA[0] as OrderInput;
    // The saga's own query now has no worker to answer it: what the API used to depend on.
    const query = client.withDeadline(Date.now() + 2_000, () =>
      client.workflow.getHandle(orderWorkflowId(pinned.orderId)).query(getOrderQuery),
    );
    await expect(query).rejects.toThrow();
    const app = createApp({
      temporal: client,
      db: database.db,
      pingDatabase: () => database.ping(),
      auth: { enabled: false, apiKeys: [], adminKeys: [] },
      logger: createLogger('api', 'silent'),
    });
    for (const input of onBuildA) {
      const read = await app.request(`/v1/orders/${input.orderId}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ orderId: input.orderId, status: 'COMPLETED' });
      const cancel = await app.request(`/v1/orders/${input.orderId}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(409);
    }
  });
});
