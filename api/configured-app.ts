/**
 * The API as a process assembles it from configuration: the shared data converter, a lazy Temporal client, a lazy
 * NATS client for order events (when NATS_URL is set), the codec server, served on HOST:PORT. The API process, `npm start` and the harness's in-process stack all use it.
 */
import { serve } from '@hono/node-server';
import type { Registry } from 'prom-client';
import type { ApiSettings, AppConfig } from '../core/config.js';
import type { PayloadProtection } from '../core/data-converter.js';
import type { Logger } from '../core/logger.js';
import { currentTracing } from '../core/trace-context.js';
import type { DatabaseHandle } from '../db/client.js';
import { createNatsClient, type NatsClient, natsConnectOptions } from '../events/nats.js';
import { createApp } from './app.js';
import { codecServerFor } from './codec/routes.js';
import { createGraphGateway } from './graphql/gateway.js';
import { createApiRegistry } from './operations/metrics.js';
import { createLazyTemporalClient, type LazyTemporalClient } from './temporal/connection.js';

export interface ConfiguredAppOptions {
  config: AppConfig;
  protection: PayloadProtection;
  database: DatabaseHandle;
  logger: Logger;
  /** Overrides of `config.api` (tests: e.g. a short Temporal timeout). */
  settings?: Partial<ApiSettings>;
  registry?: Registry;
}

/** An app and the clients it owns; `close()` them after the server stopped. */
export interface ConfiguredApp {
  app: ReturnType<typeof createApp>;
  temporal: LazyTemporalClient;
  /** The NATS client of order events; undefined when NATS_URL is unset. */
  nats: NatsClient | undefined;
  /** Ends the open event streams (call it before closing the server, which waits for open connections). */
  endStreams(): void;
  /** Closes the NATS and Temporal clients. */
  close(): Promise<void>;
}

/** Builds the app and the clients it owns (close them after the server). */
export function createConfiguredApp(options: ConfiguredAppOptions): ConfiguredApp {
  const { config, protection, database, logger } = options;
  // Lazy: no round trip at start, so an outage of Temporal means 503s and a failing /readyz, not a crash loop.
  const temporal = createLazyTemporalClient(config.temporal, protection.dataConverter);
  // Lazy too: it connects in the background and retries while NATS is down; the events route answers 503 meanwhile.
  const nats =
    config.events.natsServers.length > 0
      ? createNatsClient({ ...natsConnectOptions(config.events), name: 'api', logger })
      : undefined;
  const shutdown = new AbortController();
  const codec = codecServerFor(config.codec, protection.codec);
  const registry = options.registry ?? createApiRegistry();
  // The federated graph; off (503 with the reason) in production without GRAPH_INTERNAL_TOKEN.
  const graph = config.graph.enabled
    ? createGraphGateway({
        settings: config.graph,
        development: config.env !== 'production',
        logger,
        registry,
      })
    : undefined;
  const app = createApp({
    temporal: temporal.client,
    db: database.db,
    pingDatabase: () => database.ping(),
    auth: config.auth,
    logger,
    // The API section of the configuration, with what a test overrides on top.
    settings: { ...config.api, ...options.settings },
    registry,
    graph: { gateway: graph, development: config.env !== 'production' },
    ...(codec ? { codec } : {}),
    ...(nats ? { events: nats } : {}),
    shutdown: shutdown.signal,
    tracing: currentTracing()?.enabled ?? false,
  });
  return {
    app,
    temporal,
    nats,
    endStreams: () => shutdown.abort(),
    async close() {
      await graph?.close();
      await nats?.close();
      await temporal.close();
    },
  };
}

/** A listening API and the Temporal client it owns. */
export interface ApiServer {
  /** `http://host:port` with the port actually bound. */
  url: string;
  app: ReturnType<typeof createApp>;
  /** Ends open event streams, stops accepting requests, then closes its clients (the database is the caller's). */
  close(): Promise<void>;
}

/** Builds the configured app and serves it on `listen` (default: HOST:PORT); rejects if the port is taken. */
export async function startApiServer(
  options: ConfiguredAppOptions & { listen?: { host: string; port: number } },
): Promise<ApiServer> {
  const { host, port } = options.listen ?? options.config.http;
  const configured = createConfiguredApp(options);
  const { app } = configured;
  const server = serve({ fetch: app.fetch, hostname: host, port });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`)));
    });
  } catch (err) {
    await configured.close();
    throw err;
  }
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    app,
    async close() {
      configured.endStreams();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await configured.close();
    },
  };
}
