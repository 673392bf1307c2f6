/** A whole running system for end-to-end tests: dev server, real database, all workers and the API over HTTP. */
import net from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app.js';
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
  stop(): Promise<void>;
}

export interface TestStackOptions {
  temporalCli: string;
  workflowBundlePath: string;
  /** Defaults to postgres when a test Postgres is configured, else PGlite. */
  driver?: DatabaseDriver;
  env?: Record<string, string>;
}

/** Starts everything in this process on free ports; `stop()` tears it down in reverse. */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const devServer = await startDevServer({ cli: options.temporalCli, port: await freePort() });
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
  const app = createApp({
    temporal: client,
    db: database.db,
    pingDatabase: () => database.ping(),
    auth: config.auth,
    logger,
  });
  const port = await freePort();
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    client,
    database,
    devServer,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await workers.shutdown();
      await connection.close();
      await database.close();
      await devServer.stop();
    },
  };
}
