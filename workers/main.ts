/**
 * Worker process entry: `worker --service payments` (one or several, or `all`; default WORKER_SERVICES), with
 * /metrics, /healthz, /readyz, relaying its services' outboxes to NATS when NATS_URL is set. Everything else
 * comes from core/config.ts.
 */
import { parseArgs } from 'node:util';
import { type EventStreamSettings, loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger, type Logger } from '../core/logger.js';
import { openDatabase } from '../db/client.js';
import { createNatsClient, type NatsClient } from '../events/nats.js';
import { ensureStreams } from '../events/streams.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

/** Longest pause between attempts to create the streams on a NATS server that refuses (JetStream off, say). */
const STREAMS_RETRY_MAX_MS = 30_000;

/**
 * Creates or updates the event streams once NATS answers, in the background so the worker starts while NATS is
 * down; retries a server that answers but refuses, until the client closes. Until then the relays back off.
 */
function ensureStreamsInBackground(nats: NatsClient, settings: EventStreamSettings, logger: Logger): void {
  const attempt = async (delayMs: number): Promise<void> => {
    try {
      const ensured = await ensureStreams(await nats.manager(), settings);
      logger.info({ streams: ensured.map(({ name, action }) => `${name} ${action}`) }, 'event streams ready');
    } catch (err) {
      if ((err as Error).message === 'NATS client closed') return; // the worker is stopping
      logger.error({ err, retryInMs: delayMs }, 'event streams could not be created; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      return attempt(Math.min(delayMs * 2, STREAMS_RETRY_MAX_MS));
    }
  };
  void attempt(1_000);
}

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
  // Production without payload keys stopped in loadConfig; development may generate its key file here.
  const { dataConverter } = loadPayloadProtection(config, logger);
  if (!config.database.url && services.length < 4) {
    logger.warn(
      'no DATABASE_URL: this worker uses its own embedded PGlite, which other processes cannot see',
    );
  }
  const database = await openDatabase(config.database);
  let nats: NatsClient | undefined;
  if (config.events.natsServers.length > 0) {
    nats = createNatsClient({
      servers: config.events.natsServers,
      name: `worker:${services.join('+')}`,
      logger,
    });
    ensureStreamsInBackground(nats, config.events.streams, logger);
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
  }
  logger.info('workers stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
