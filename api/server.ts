/** API process entry: serves the Hono app on HOST:PORT until SIGINT/SIGTERM. */
import { serve } from '@hono/node-server';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { connectTemporal, createTemporalClient } from '../core/temporal.js';
import { openDatabase } from '../db/client.js';
import { createApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('api', config.logLevel);
  const database = await openDatabase({
    url: config.database.url,
    pgliteDir: config.database.pgliteDir,
    poolSize: config.database.poolSize,
  });
  const connection = await connectTemporal(config);
  const app = createApp({
    temporal: createTemporalClient(connection, config),
    db: database.db,
    pingDatabase: () => database.ping(),
    auth: config.auth,
    logger,
  });
  const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port }, (info) => {
    logger.info({ url: `http://${config.http.host}:${info.port}` }, 'api listening');
  });
  if (!config.auth.enabled) logger.warn('auth is OFF: no API_KEYS or ADMIN_API_KEYS configured (dev mode)');
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      await connection.close();
      await database.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
