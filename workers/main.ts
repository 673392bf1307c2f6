/** Worker process entry: `worker --service payments` (one or several, or `all`), with /metrics, /healthz, /readyz. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { loadObservabilityConfig } from '../core/observability-config.js';
import { openDatabase } from '../db/client.js';
import { startWorkerHttpServer, workerReadiness } from './health-server.js';
import { createProcessRegistry } from './metrics.js';
import { parseServiceList } from './registry.js';
import { startWorkers, type WorkerHost } from './worker-host.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string', short: 's', default: process.env.WORKER_SERVICES ?? 'all' },
      'workflow-bundle': { type: 'string', default: process.env.WORKFLOW_BUNDLE_PATH },
    },
  });
  const config = loadConfig();
  const services = parseServiceList(values.service ?? 'all');
  const observability = loadObservabilityConfig(services);
  const logger = createLogger(`worker:${services.join('+')}`, config.logLevel);
  // Before anything opens: production without payload keys stops here.
  const { dataConverter } = loadPayloadProtection(config, logger);
  if (!config.database.url && services.length < 4) {
    logger.warn(
      'no DATABASE_URL: this worker uses its own embedded PGlite, which other processes cannot see',
    );
  }
  const database = await openDatabase(config.database);
  const registry = createProcessRegistry();
  // Listening first: a taken port fails the start before any task is polled; not ready until the workers run.
  let host: WorkerHost | undefined;
  const http = await startWorkerHttpServer({
    ...observability.workerHttp,
    registry,
    readiness: () =>
      workerReadiness(host?.states() ?? Object.fromEntries(services.map((s) => [s, 'STARTING'])), () =>
        database.ping(),
      ),
  });
  logger.info({ url: http.url, endpoints: ['/metrics', '/healthz', '/readyz'] }, 'worker http server');
  try {
    host = await startWorkers({
      services,
      config,
      logger,
      db: database.db,
      dataConverter,
      registry,
      temporalMetrics: observability.temporalMetrics,
      ...(values['workflow-bundle'] ? { workflowBundlePath: values['workflow-bundle'] } : {}),
    });
  } catch (err) {
    await http.close();
    await database.close();
    throw err;
  }
  const running = host;
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: draining in-flight tasks');
    void running.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await running.done;
  } finally {
    await http.close();
    await database.close();
  }
  logger.info('workers stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
