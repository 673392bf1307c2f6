/** A whole running system for end-to-end tests: dev server, real database, all workers and the API over HTTP. */

import { serve } from '@hono/node-server';
import { type Client, Connection } from '@temporalio/client';
import type { DestinationStream } from 'pino';
import { createConfiguredApp } from '../api/configured-app.js';
import type { ApiSettings } from '../api/settings.js';
import { SERVICE_NAMES, type ServiceName } from '../contracts/services.js';
import { type AppConfig, loadConfig } from '../core/config.js';
import { loadPayloadProtection, type PayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { createTemporalClient, temporalConnectionOptions } from '../core/temporal.js';
import type { DatabaseDriver } from '../db/client.js';
import { seedCatalog } from '../db/seed.js';
import { startWorkers, type WorkerHost } from '../workers/worker-host.js';
import { type DevServer, startDevServer } from './dev-server.js';
/** A port nobody listens on right now (re-exported for tests that import it from here). */
import { freePort } from './free-port.js';
import { testPayloadEnv } from './test-payload-keys.js';
import { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './throwaway-database.js';

export { freePort };

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
}

/** Starts everything in this process on free ports; `stop()` tears it down in reverse. */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const temporalPort = await freePort();
  const startTemporalServer = () =>
    startDevServer({
      cli: options.temporalCli,
      port: temporalPort,
      ...(options.temporalDbFile ? { dbFile: options.temporalDbFile } : {}),
    });
  let devServer = await startTemporalServer();
  const database = await createTestDatabase(options.driver ?? (TEST_POSTGRES_URL ? 'postgres' : 'pglite'));
  await seedCatalog(database.db);
  const config = loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...(options.encryption === false ? { PAYLOAD_ENCRYPTION: 'false' } : testPayloadEnv()),
    ...options.env,
  });
  const logger = createLogger('test-stack', config.logLevel, options.logDestination);
  const protection = loadPayloadProtection(config, logger);
  // One host per service, so a test can stop one service's worker while the others go on.
  const startWorker = (service: ServiceName) =>
    startWorkers({
      services: [service],
      config,
      logger,
      db: database.db,
      dataConverter: protection.dataConverter,
      workflowBundlePath: options.workflowBundlePath,
    });
  const workers = new Map<ServiceName, WorkerHost>();
  for (const service of SERVICE_NAMES) workers.set(service, await startWorker(service));
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = createTemporalClient(connection, config, protection.dataConverter);
  const port = await freePort();

  // The API gets its own lazily-connecting client, as in production (api/server.ts).
  const startApi = () => {
    const { app, temporal } = createConfiguredApp({
      config,
      protection,
      database,
      logger,
      ...(options.apiSettings ? { settings: options.apiSettings } : {}),
    });
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
    return {
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await temporal.close();
      },
    };
  };
  let api = startApi();
  const stack: TestStack = {
    baseUrl: `http://127.0.0.1:${port}`,
    client,
    config,
    protection,
    database,
    devServer,
    async restartApi() {
      await api.close();
      api = startApi();
    },
    async stopTemporal() {
      await devServer.stop();
    },
    async startTemporal() {
      devServer = await startTemporalServer();
      stack.devServer = devServer;
    },
    async stopWorker(service) {
      await workers.get(service)?.shutdown();
      workers.delete(service);
    },
    async startWorker(service) {
      if (!workers.has(service)) workers.set(service, await startWorker(service));
    },
    async stop() {
      await api.close();
      await Promise.all([...workers.values()].map((host) => host.shutdown()));
      await connection.close();
      await database.close();
      await devServer.stop();
    },
  };
  return stack;
}
