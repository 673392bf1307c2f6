/**
 * The whole system in this process as `npm start` wires it for observability: one metrics registry shared by the
 * workers and the API, the workers' own HTTP server, the SDK's Prometheus exporter, and worker logs captured.
 */
import { serve } from '@hono/node-server';
import { type Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { createLogger } from '../../core/logger.js';
import { createTemporalClient } from '../../core/temporal.js';
import { seedCatalog } from '../../db/seed.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { testPayloadEnv } from '../../harness/test-payload-keys.js';
import {
  createTestDatabase,
  TEST_POSTGRES_URL,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { startWorkerHttpServer, workerReadiness } from '../../workers/health-server.js';
import { createProcessRegistry } from '../../workers/metrics.js';
import { startWorkers } from '../../workers/worker-host.js';

/** A running stack and where each of its observability endpoints is. */
export interface ObservedStack {
  /** The API, whose /metrics also shows the in-process workers' metrics. */
  baseUrl: string;
  /** The workers' own HTTP server (/metrics, /healthz, /readyz). */
  workerHttpUrl: string;
  /** The Temporal SDK's Prometheus exporter. */
  sdkMetricsUrl: string;
  client: Client;
  database: TestDatabase;
  /** Every JSON line the workers logged (SDK, workflow and activity lines). */
  logLines: string[];
  stop(): Promise<void>;
}

/** The Temporal CLI and workflow bundle from the test run's global setup. */
export interface ObservedStackOptions {
  temporalCli: string;
  workflowBundlePath: string;
}

/** Starts everything on free ports; `stop()` tears it down in reverse. */
export async function startObservedStack(options: ObservedStackOptions): Promise<ObservedStack> {
  // Both take seconds (server start, PGlite's WASM compile): start them together.
  const [devServer, database]: [DevServer, TestDatabase] = await Promise.all([
    freePort().then((port) => startDevServer({ cli: options.temporalCli, port })),
    createTestDatabase(TEST_POSTGRES_URL ? 'postgres' : 'pglite'),
  ]);
  await seedCatalog(database.db);
  const config = loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: 'info',
    ...testPayloadEnv(),
  });
  const { dataConverter } = loadPayloadProtection(config);
  const logLines: string[] = [];
  const logger = createLogger('observability-test', 'info', { write: (line: string) => logLines.push(line) });
  const registry = createProcessRegistry();
  const sdkPort = await freePort();
  const workers = await startWorkers({
    services: [...SERVICE_NAMES],
    config,
    logger,
    db: database.db,
    dataConverter,
    workflowBundlePath: options.workflowBundlePath,
    registry,
    temporalMetrics: { host: '127.0.0.1', port: sdkPort },
  });
  const workerHttp = await startWorkerHttpServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    readiness: () => workerReadiness(workers.states(), () => database.ping()),
  });
  const connection = await Connection.connect({ address: devServer.address });
  const client = createTemporalClient(connection, config, dataConverter);
  const app = createApp({
    temporal: client,
    db: database.db,
    pingDatabase: () => database.ping(),
    auth: config.auth,
    logger: createLogger('api', 'silent'),
    registry,
  });
  const port = await freePort();
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    workerHttpUrl: workerHttp.url,
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
    client,
    database,
    logLines,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await workerHttp.close();
      await workers.shutdown();
      await connection.close();
      await database.close();
      await devServer.stop();
    },
  };
}
