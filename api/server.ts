/** API process entry: serves the Hono app on HOST:PORT until SIGINT/SIGTERM; starts even while Temporal is down. */

import { describeClients } from '../core/api-keys.js';
import { loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { startTracing } from '../core/tracing.js';
import { logLateAnswers, openDatabase } from '../db/client.js';
import { describeCodecServer } from './codec/routes.js';
import { startApiServer } from './configured-app.js';

async function main(): Promise<void> {
  // Production without keys, a cursor secret or payload keys stops here, with every other problem.
  const config = loadConfig(process.env, { role: 'api' });
  const logger = createLogger('api', config.logLevel);
  const tracing = startTracing(config.tracing, 'order-saga-api', config.versioning.buildId);
  const protection = loadPayloadProtection(config, logger);
  const database = await openDatabase({ ...config.database, onLateAnswer: logLateAnswers(logger) });
  const server = await startApiServer({ config, protection, database, logger });
  logger.info({ url: server.url }, 'api listening');
  if (!config.auth.enabled) logger.warn('auth is OFF: no API_KEYS or ADMIN_API_KEYS configured (dev mode)');
  else logger.info({ keys: describeClients(config.auth.apiKeys, config.auth.adminKeys) }, 'auth on');
  const codecServer = describeCodecServer(config.codec, protection.codec, server.url);
  logger.info({ payloads: protection.summary, codecServer }, 'payload protection');
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    void server.close().then(async () => {
      await database.close();
      await tracing.shutdown().catch((err: Error) => logger.warn({ err }, 'could not export the last spans'));
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
