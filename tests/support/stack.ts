/** A whole running system for end-to-end tests: dev server, real database, all workers and the API over HTTP. */
import net from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app.js';
import type { ApiSettings } from '../../api/settings.js';
import { createLazyTemporalClient } from '../../api/temporal-connection.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { DatabaseDriver } from '../../db/client.js';
import { seedCatalog } from '../../db/seed.js';
import { type DevServer, startDevServer } from '../../scripts/dev-server.js';
import { startWorkers } from '../../workers/worker-host.js';
import { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './database.js';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface TestStack {
  baseUrl: string;
  client: Client;
  database: TestDatabase;
  devServer: DevServer;
  /** Replaces the API (new app, new Temporal client) on the same port, as a redeploy would. */
  restartApi(): Promise<void>;
  /** Stops the Temporal dev server (keep `temporalDbFile` set to get its workflows back on start). */
  stopTemporal(): Promise<void>;
  /** Starts the dev server again on the same port. */
  startTemporal(): Promise<void>;
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
    ...options.env,
  });
  const logger = createLogger('test-stack', config.logLevel);
  const workers = await startWorkers({
    services: [...SERVICE_NAMES],
    config,
    logger,
    db: database.db,
    workflowBundlePath: options.workflowBundlePath,
  });
  const connection = await Connection.connect({ address: devServer.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const port = await freePort();

  // The API gets its own lazily-connecting client, as in production (api/server.ts).
  const startApi = () => {
    const temporal = createLazyTemporalClient(config.temporal);
    const app = createApp({
      temporal: temporal.client,
      db: database.db,
      pingDatabase: () => database.ping(),
      auth: config.auth,
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
    async stop() {
      await api.close();
      await workers.shutdown();
      await connection.close();
      await database.close();
      await devServer.stop();
    },
  };
  return stack;
}
