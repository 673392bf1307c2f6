/**
 * `npm start`: the whole system in one process tree — Temporal dev server, NATS (JetStream), database, all workers
 * and the API.
 */
import path from 'node:path';
import { codecServerFor, describeCodecServer } from '../api/codec/routes.js';
import { describeClients } from '../core/api-keys.js';
import {
  type AppConfig,
  type EventSettings,
  formatAddress,
  loadConfig,
  PROJECT_ROOT,
} from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createLogger, type Logger } from '../core/logger.js';
import { startTracing } from '../core/tracing.js';
import { openDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { seedCatalog } from '../db/seed.js';
import { createNatsClient, natsConnectOptions } from '../events/nats.js';
import { ensureStreamsWhenReachable } from '../events/streams.js';
import { type DevServer, startDevServer } from '../harness/dev-server.js';
import { requireNatsServer, requireTemporalCli } from '../harness/dev-tools.mjs';
import { portInUse } from '../harness/free-port.js';
import { DEFAULT_NATS_PORT, type NatsServer, startNatsServer } from '../harness/nats-server.js';
import { startSystem } from '../harness/system.js';
import { createProcessRegistry } from '../workers/metrics.js';

/** Where the embedded NATS server keeps its streams (JetStream file store). */
const NATS_STORE_DIR = path.join(PROJECT_ROOT, '.data', 'nats');

/** The embedded NATS server on 4222, or on a free port when something else (a system nats-server) has 4222. */
async function startEmbeddedNats(logger: Logger): Promise<NatsServer> {
  const host = '127.0.0.1';
  let port = DEFAULT_NATS_PORT;
  if (await portInUse(host, port)) {
    port = 0;
    logger.warn(
      `port ${DEFAULT_NATS_PORT} is taken: the embedded NATS server takes a free port (set NATS_URL to use that server instead)`,
    );
  }
  return startNatsServer({
    binary: requireNatsServer({ log: (line) => logger.info(line) }),
    host,
    port,
    storeDir: NATS_STORE_DIR,
    name: 'order-saga-dev',
    onOutput: (line) => logger.debug({ source: 'nats' }, line),
  });
}

/** Creates or updates the streams; an external NATS that is down gets them in the background once it answers. */
async function ensureEventStreams(events: EventSettings, logger: Logger, wait: boolean): Promise<void> {
  const client = createNatsClient({ ...natsConnectOptions(events), name: 'dev:streams', logger });
  const ensured = ensureStreamsWhenReachable(client, events.streams, logger).finally(() => client.close());
  if (wait) await ensured;
}

/** Set once cleanups exist, so a failure at any later point still stops what was started. */
let fail: (err: unknown) => void = (err) => {
  console.error(err);
  process.exit(1);
};

async function main(): Promise<void> {
  // One process hosts every service here, so orders run colocated unless SAGA_PLACEMENT says otherwise.
  const config = loadConfig({ SAGA_PLACEMENT: 'colocated', ...process.env });
  const logger = createLogger('dev', config.logLevel);
  // One process runs every role here: one service.name for all of them (OTEL_SERVICE_NAME overrides it).
  const tracing = startTracing(config.tracing, 'order-saga', config.versioning.buildId);
  // One converter for the workers and the API's client; the codec server of the API opens what they seal.
  const protection = loadPayloadProtection(config, logger);
  const codec = codecServerFor(config.codec, protection.codec);
  const api = `http://${config.http.host}:${config.http.port}`;
  const cleanups: Array<() => Promise<void>> = [() => tracing.shutdown()];
  let stoppingSince = 0;
  const shutdown = async (reason: string, exitCode = 0) => {
    // Ctrl-C arrives twice (terminal group and the `npm start` wrapper): the first stops, a later one forces.
    if (stoppingSince > 0) {
      if (Date.now() - stoppingSince > 1_000) {
        logger.warn('forced exit');
        process.exit(130);
      }
      return;
    }
    stoppingSince = Date.now();
    logger.info({ reason }, 'stopping everything (Ctrl-C again to force)');
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err) => logger.error({ err }, 'cleanup failed'));
    }
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  fail = (err) => {
    logger.error({ err }, 'start failed');
    void shutdown('error', 1);
  };

  let devServer: DevServer | undefined;
  if (!config.temporal.external) {
    const [host = '127.0.0.1', port = '7233'] = config.temporal.address.split(':');
    devServer = await startDevServer({
      cli: requireTemporalCli({ log: (line) => logger.info(line) }),
      host,
      port: Number(port),
      uiPort: config.temporal.uiPort,
      // The UI decodes through the API's codec server, so operators read orders in clear at once.
      ...(codec ? { uiCodecEndpoint: `${api}/codec` } : {}),
      dbFile: path.join(PROJECT_ROOT, '.data', 'temporal.sqlite'),
      onOutput: (line) => logger.debug({ source: 'temporal' }, line),
    });
    cleanups.push(() => devServer?.stop() ?? Promise.resolve());
    logger.info({ address: devServer.address }, 'temporal dev server ready');
  }

  // Unless NATS_URL names a server, one runs here; the workers' relays and consumers get its URL as if configured.
  let natsServer: NatsServer | undefined;
  let natsServers = config.events.natsServers;
  if (natsServers.length === 0) {
    natsServer = await startEmbeddedNats(logger);
    cleanups.push(() => natsServer?.stop() ?? Promise.resolve());
    natsServers = [natsServer.url];
    logger.info({ url: natsServer.url }, 'nats server ready');
  }
  const events: EventSettings = { ...config.events, natsUrl: natsServers.join(','), natsServers };
  await ensureEventStreams(events, logger, natsServer !== undefined);
  const stackConfig: AppConfig = { ...config, events };

  const database = await openDatabase(config.database);
  cleanups.push(() => database.close());
  await migrateDatabase(database);
  await seedCatalog(database.db);
  logger.info({ driver: database.driver }, 'database migrated and seeded');

  // The system as tests run it in process (harness/system.ts), built with the assembly functions of the API and
  // worker processes: a lazy Temporal client with deadlines, the same settings and codec server, so an outage of
  // Temporal behaves here as it does in production. One registry: the API's /metrics shows HTTP, saga and Node.js
  // metrics together.
  const { temporalMetrics } = config.worker;
  const system = await startSystem({
    config: stackConfig,
    protection,
    database,
    logger,
    apiListen: config.http,
    workerLayout: 'shared',
    registry: createProcessRegistry(),
    temporalMetrics,
  });
  cleanups.push(() => system.stop());
  system.workerFailure.catch((err) => {
    logger.error({ err }, 'a worker failed');
    void shutdown('worker-failure', 1);
  });

  const ui = devServer?.uiUrl ?? `(external Temporal at ${config.temporal.address})`;
  const banner = [
    '',
    'Order saga is running',
    `  API            ${api}`,
    `  API docs       ${api}/docs  (OpenAPI: ${api}/openapi.json)`,
    `  Temporal UI    ${ui}`,
    `  Metrics        ${api}/metrics`,
    `  SDK metrics    ${temporalMetrics ? `http://${formatAddress(temporalMetrics)}/metrics` : 'off (TEMPORAL_METRICS_PORT=0)'}`,
    `  NATS           ${natsServer ? `${natsServer.url} (JetStream, store ${path.relative(PROJECT_ROOT, natsServer.storeDir)})` : `${stackConfig.events.natsUrl} (NATS_URL)`}`,
    `  GraphQL        ${api}/graphql  (${config.graph.enabled ? (config.env === 'production' ? 'persisted or ad-hoc operations' : 'GraphiQL in a browser') : 'off: set GRAPH_INTERNAL_TOKEN'})`,
    `  Events         ${api}/asyncapi.json  (an order's: ${api}/v1/orders/{id}/events, its notifications: …/notifications)`,
    `  Database       ${database.driver === 'pglite' ? `PGlite in ${path.relative(PROJECT_ROOT, config.database.pgliteDir)}` : 'Postgres (DATABASE_URL)'}`,
    `  Auth           ${config.auth.enabled ? `on (${describeClients(config.auth.apiKeys, config.auth.adminKeys)})` : 'OFF — no API keys configured (dev mode)'}`,
    `  Payloads       ${protection.summary}`,
    `  Codec server   ${describeCodecServer(config.codec, protection.codec, api)}`,
    '  Stop with Ctrl-C',
    '',
  ].join('\n');
  process.stdout.write(`${banner}\n`);
}

main().catch((err) => fail(err));
