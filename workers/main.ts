/** Worker process entry: `worker --service payments` (one or several, or `all`). */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../db/client.js';
import { parseServiceList } from './registry.js';
import { startWorkers } from './worker-host.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string', short: 's', default: process.env.WORKER_SERVICES ?? 'all' },
      'workflow-bundle': { type: 'string', default: process.env.WORKFLOW_BUNDLE_PATH },
    },
  });
  const config = loadConfig();
  const services = parseServiceList(values.service ?? 'all');
  const logger = createLogger(`worker:${services.join('+')}`, config.logLevel);
  if (!config.database.url && services.length < 4) {
    logger.warn(
      'no DATABASE_URL: this worker uses its own embedded PGlite, which other processes cannot see',
    );
  }
  const database = await openDatabase({
    url: config.database.url,
    pgliteDir: config.database.pgliteDir,
    poolSize: config.database.poolSize,
  });
  const host = await startWorkers({
    services,
    config,
    logger,
    db: database.db,
    ...(values['workflow-bundle'] ? { workflowBundlePath: values['workflow-bundle'] } : {}),
  });
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: draining in-flight tasks');
    void host.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await host.done;
  await database.close();
  logger.info('workers stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
