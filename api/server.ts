/** API process entry: serves the Hono app on HOST:PORT until SIGINT/SIGTERM; starts even while Temporal is down. */

import { serve } from '@hono/node-server';
import { describeClients } from '../core/api-keys.js';
import { assertApiAuthConfigured, loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../db/client.js';
import { createConfiguredApp } from './configured-app.js';
import { describeCodecServer } from './routes/codec.js';
import { loadApiSettings } from './settings.js';

async function main(): Promise<void> {
  const config = loadConfig();
  assertApiAuthConfigured(config);
  const settings = loadApiSettings();
  const logger = createLogger('api', config.logLevel);
  // Before anything opens: production without payload keys stops here.
  const protection = loadPayloadProtection(config, logger);
  const database = await openDatabase(config.database);
  const { app, temporal } = createConfiguredApp({ config, protection, database, logger, settings });
  const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port }, (info) => {
    logger.info({ url: `http://${config.http.host}:${info.port}` }, 'api listening');
  });
  if (!config.auth.enabled) logger.warn('auth is OFF: no API_KEYS or ADMIN_API_KEYS configured (dev mode)');
  else logger.info({ keys: describeClients(config.auth.apiKeys, config.auth.adminKeys) }, 'auth on');
  const base = `http://${config.http.host}:${config.http.port}`;
  const codecServer = describeCodecServer(config.codec, protection.codec, base);
  logger.info({ payloads: protection.summary, codecServer }, 'payload protection');
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      await temporal.close();
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
