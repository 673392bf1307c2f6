/** A whole running system for end-to-end tests: dev server, real database, all workers and the API over HTTP. */

import { type Client, Connection } from '@temporalio/client';
import type { DestinationStream } from 'pino';
import type { SubgraphName } from '../contracts/graph.js';
import type { ServiceName } from '../contracts/services.js';
import { type ApiSettings, type AppConfig, loadConfig } from '../core/config.js';
import { loadPayloadProtection, type PayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { createTemporalClient, temporalConnectionOptions } from '../core/temporal.js';
import type { DatabaseDriver } from '../db/client.js';
import { seedCatalog } from '../db/seed.js';
import { createNatsClient, natsConnectOptions } from '../events/nats.js';
import { ensureStreams } from '../events/streams.js';
import { createProcessRegistry } from '../workers/metrics.js';
import { type DevServer, startDevServer } from './dev-server.js';
import { freePort } from './free-port.js';
import { startSystem } from './system.js';
import { testPayloadEnv } from './test-payload-keys.js';
import { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './throwaway-database.js';

export interface TestStack {
  baseUrl: string;
  /** A client with the stack's data converter (it reads encrypted results like the API does). */
  client: Client;
  /** The stack's configuration and payload protection (keys, codec), shared by workers, clients and the API. */
  config: AppConfig;
  protection: PayloadProtection;
  database: TestDatabase;
  devServer: DevServer;
  /** Replaces the API (new app, new Temporal client) on the same port, as a redeploy would. */
  restartApi(): Promise<void>;
  /** Stops the Temporal dev server (keep `temporalDbFile` set to get its workflows back on start). */
  stopTemporal(): Promise<void>;
  /** Starts the dev server again on the same port. */
  startTemporal(): Promise<void>;
  /** Stops one service's worker (drains it), as a crash, a scale-to-zero or a drained rollout would. */
  stopWorker(service: ServiceName): Promise<void>;
  /** Starts that service's worker again. */
  startWorker(service: ServiceName): Promise<void>;
  /** Where each subgraph answers, one loopback server each; `stopSubgraph` closes one, `startSubgraph` reopens it. */
  subgraphUrls: Record<SubgraphName, string>;
  stopSubgraph(name: SubgraphName): Promise<void>;
  startSubgraph(name: SubgraphName): Promise<void>;
  /** With `workerEndpoints`: the workers' own HTTP server and the SDK's Prometheus exporter. */
  workerHttpUrl: string | undefined;
  sdkMetricsUrl: string | undefined;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  temporalCli: string;
  workflowBundlePath: string;
  /** Defaults to postgres when a test Postgres is configured, else PGlite. */
  driver?: DatabaseDriver;
  env?: Record<string, string>;
  /** SQLite file for the dev server, so workflows survive `stopTemporal()`/`startTemporal()`; in-memory if unset. */
  temporalDbFile?: string;
  /** API-only settings (e.g. a short Temporal timeout). */
  apiSettings?: Partial<ApiSettings>;
  /** Payload encryption (default on, with a fresh key unless `env` has PAYLOAD_KEYS). */
  encryption?: boolean;
  /** Where the stack's logs go (all of them: API, workers, SDK); stdout when omitted. */
  logDestination?: DestinationStream;
  /** The API's port (default: a free one), for callers that must know it before the dev server starts. */
  apiPort?: number;
  /** The dev server's Web UI on `port` (headless when unset), decoding through `codecEndpoint` (the API's /codec). */
  temporalUi?: { port: number; codecEndpoint?: string };
  /**
   * As `npm start` and a worker pod run it: all services in one worker host with its own HTTP server and the SDK's
   * Prometheus exporter, one metrics registry shared with the API. Default: one host per service (stopWorker).
   */
  workerEndpoints?: boolean;
  /**
   * NATS_URL of the stack (tests pass `inject('natsUrl')`): its streams are ensured and the workers relay their
   * outboxes there. Without it events stay in the outboxes.
   */
  natsUrl?: string;
}

/** Starts everything in this process on free ports; `stop()` tears it down in reverse. */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const temporalPort = await freePort();
  const startTemporalServer = () =>
    startDevServer({
      cli: options.temporalCli,
      port: temporalPort,
      ...(options.temporalDbFile ? { dbFile: options.temporalDbFile } : {}),
      ...(options.temporalUi
        ? { uiPort: options.temporalUi.port, uiCodecEndpoint: options.temporalUi.codecEndpoint }
        : {}),
    });
  let devServer = await startTemporalServer();
  const database = await createTestDatabase(options.driver ?? (TEST_POSTGRES_URL ? 'postgres' : 'pglite'));
  await seedCatalog(database.db);
  const config = loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...(options.encryption === false ? { PAYLOAD_ENCRYPTION: 'false' } : testPayloadEnv()),
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...options.env,
  });
  const logger = createLogger('test-stack', config.logLevel, options.logDestination);
  if (config.events.natsServers.length > 0) {
    const nats = createNatsClient({
      ...natsConnectOptions(config.events),
      name: 'test-stack:streams',
      logger,
    });
    try {
      await ensureStreams(await nats.manager(), config.events.streams);
    } finally {
      await nats.close();
    }
  }
  const protection = loadPayloadProtection(config, logger);
  const sdkPort = options.workerEndpoints ? await freePort() : undefined;
  const system = await startSystem({
    config,
    protection,
    database,
    logger,
    apiListen: { host: '127.0.0.1', port: options.apiPort ?? (await freePort()) },
    workflowBundlePath: options.workflowBundlePath,
    ...(options.apiSettings ? { apiSettings: options.apiSettings } : {}),
    ...(sdkPort
      ? {
          workerLayout: 'shared' as const,
          registry: createProcessRegistry(),
          workerHttp: { host: '127.0.0.1', port: 0 },
          temporalMetrics: { host: '127.0.0.1', port: sdkPort },
        }
      : { workerLayout: 'per-service' as const }),
  });
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = createTemporalClient(connection, config, protection.dataConverter);
  const stack: TestStack = {
    baseUrl: system.apiUrl,
    client,
    config,
    protection,
    database,
    devServer,
    workerHttpUrl: system.workerHttpUrl,
    subgraphUrls: system.subgraphUrls,
    stopSubgraph: (name) => system.stopSubgraph(name),
    startSubgraph: (name) => system.startSubgraph(name),
    sdkMetricsUrl: sdkPort ? `http://127.0.0.1:${sdkPort}/metrics` : undefined,
    restartApi: () => system.restartApi(),
    stopWorker: (service) => system.stopWorker(service),
    startWorker: (service) => system.startWorker(service),
    async stopTemporal() {
      await devServer.stop();
    },
    async startTemporal() {
      devServer = await startTemporalServer();
      stack.devServer = devServer;
    },
    async stop() {
      await system.stop();
      await connection.close();
      await database.close();
      await devServer.stop();
    },
  };
  return stack;
}
