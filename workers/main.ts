/**
 * Worker process entry: `worker --service payments` (one or several, or `all`; default WORKER_SERVICES), with
 * /metrics, /healthz, /readyz, relaying its services' outboxes to NATS when NATS_URL is set. Everything else
 * comes from core/config.ts.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger } from '../core/logger.js';
import { startTracing } from '../core/tracing.js';
import { logLateAnswers, openDatabase } from '../db/client.js';
import { createNatsClient, type NatsClient, natsConnectOptions } from '../events/nats.js';
import { ensureStreamsWhenReachable } from '../events/streams.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { service: { type: 'string', short: 's' }, 'workflow-bundle': { type: 'string' } },
  });
  // The flags stand for their variables (containers run `worker --service payments`), so one parse checks both.
  const config = loadConfig(
    {
      ...process.env,
      ...(values.service !== undefined ? { WORKER_SERVICES: values.service } : {}),
      ...(values['workflow-bundle'] !== undefined ? { WORKFLOW_BUNDLE_PATH: values['workflow-bundle'] } : {}),
    },
    { role: 'worker' },
  );
  const { services, workflowBundlePath } = config.worker;
  const logger = createLogger(`worker:${services.join('+')}`, config.logLevel);
  const tracing = startTracing(
    config.tracing,
    `order-saga-worker-${services.join('-')}`,
    config.versioning.buildId,
  );
  // Production without payload keys stopped in loadConfig; development may generate its key file here.
  const { dataConverter } = loadPayloadProtection(config, logger);
  if (!config.database.url && services.length < 4) {
    logger.warn(
      'no DATABASE_URL: this worker uses its own embedded PGlite, which other processes cannot see',
    );
  }
  const database = await openDatabase({ ...config.database, onLateAnswer: logLateAnswers(logger) });
  let nats: NatsClient | undefined;
  if (config.events.natsServers.length > 0) {
    nats = createNatsClient({
      ...natsConnectOptions(config.events),
      name: `worker:${services.join('+')}`,
      logger,
    });
    void ensureStreamsWhenReachable(nats, config.events.streams, logger);
  } else {
    logger.info('NATS_URL is not set: events stay in the outbox until a worker with NATS_URL publishes them');
  }
  let running: WorkerProcess;
  try {
    running = await startWorkerProcess({
      services,
      config,
      logger,
      database,
      dataConverter,
      http: config.worker.http,
      temporalMetrics: config.worker.temporalMetrics,
      ...(workflowBundlePath ? { workflowBundlePath } : {}),
      ...(nats ? { nats } : {}),
    });
  } catch (err) {
    await nats?.close();
    await database.close();
    throw err;
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: draining in-flight tasks');
    void running.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await running.done;
  } finally {
    // The relays stopped with the workers; nothing publishes any more.
    await nats?.close();
    await database.close();
    await tracing.shutdown().catch((err: Error) => logger.warn({ err }, 'could not export the last spans'));
  }
  logger.info('workers stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
