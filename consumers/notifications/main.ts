/**
 * Process entry of the notifications service: `consumer --service notifications` (the only event consumer so
 * far), with /metrics, /healthz and /readyz. Configuration comes from core/config.ts; NATS_URL is required.
 * SIGTERM stops pulling and lets the event in hand finish before closing.
 */
import { parseArgs } from 'node:util';
import { type AppConfig, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startTracing } from '../../core/tracing.js';
import { type DatabaseHandle, logLateAnswers, openDatabase } from '../../db/client.js';
import type { EventConsumer } from '../../events/consumer.js';
import { createNatsClient, loggableServers, type NatsClient, natsConnectOptions } from '../../events/nats.js';
import { createProcessSubgraphs } from '../../graph/process-subgraphs.js';
import { type Readiness, startWorkerHttpServer } from '../../workers/health-server.js';
import { createProcessRegistry } from '../../workers/metrics.js';
import { NOTIFICATIONS_CONSUMER } from './handler.js';
import { startNotificationsService } from './service.js';

/** Event consumer services this entry runs. */
const CONSUMER_SERVICES = [NOTIFICATIONS_CONSUMER] as const;

/** A database that does not answer within this long counts as down. */
const PING_TIMEOUT_MS = 3_000;

async function databaseCheck(database: DatabaseHandle): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      database.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Ready when the database answers, NATS is connected and the durable is being pulled from. */
async function readiness(
  database: DatabaseHandle,
  nats: NatsClient,
  consumer: EventConsumer,
): Promise<Readiness> {
  const checks = {
    database: await databaseCheck(database),
    nats: nats.connected ? 'ok' : 'disconnected',
    [`consumer:${consumer.name}`]: consumer.consuming ? 'ok' : 'not consuming',
  };
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}

function serviceOf(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { service: { type: 'string', short: 's' } } });
  const service = values.service ?? NOTIFICATIONS_CONSUMER;
  if (!(CONSUMER_SERVICES as readonly string[]).includes(service)) {
    throw new Error(
      `unknown consumer service "${service}"; expected one of: ${CONSUMER_SERVICES.join(', ')}`,
    );
  }
  return service;
}

async function main(): Promise<void> {
  const service = serviceOf(process.argv.slice(2));
  const config: AppConfig = loadConfig(process.env, { role: 'consumer' });
  const logger = createLogger(`consumer:${service}`, config.logLevel);
  const tracing = startTracing(config.tracing, `order-saga-consumer-${service}`, config.versioning.buildId);
  if (!config.database.url) {
    logger.warn(
      'no DATABASE_URL: the notifications are kept in an embedded PGlite that no other process sees',
    );
  }
  const database = await openDatabase({ ...config.database, onLateAnswer: logLateAnswers(logger) });
  const nats = createNatsClient({
    ...natsConnectOptions(config.events),
    name: `consumer:${service}`,
    logger,
  });
  const registry = createProcessRegistry();
  const consumer = startNotificationsService({
    database,
    nats,
    logger,
    registry,
    streams: config.events.streams,
  });
  const close = async () => {
    await consumer.stop();
    await nats.close();
    await database.close();
  };
  // The notifications subgraph, on the consumer's own server: it reads only this service's table.
  const graph = createProcessSubgraphs({ names: ['notifications'], db: database.db, config, logger });
  let http: Awaited<ReturnType<typeof startWorkerHttpServer>>;
  try {
    http = await startWorkerHttpServer({
      ...config.events.consumerHttp,
      registry,
      subgraphs: graph.servers,
      readiness: () => readiness(database, nats, consumer),
    });
  } catch (err) {
    await close();
    throw err;
  }
  logger.info(
    { http: http.url, nats: loggableServers(config.events.natsServers) },
    'notifications consumer started',
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'shutting down: finishing the event in hand');
  await close();
  await http.close();
  await graph.close();
  await tracing.shutdown().catch((err: Error) => logger.warn({ err }, 'could not export the last spans'));
  logger.info('notifications consumer stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
