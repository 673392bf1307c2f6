/**
 * A worker process as it is assembled: its HTTP server (/metrics, /healthz, /readyz) listening first, then the
 * workers of its services on one connection, then (with NATS) the outbox relay of each service it hosts. The worker
 * entry (workers/main.ts) and the harness's in-process stack both build workers with it.
 */
import type { DataConverter } from '@temporalio/common';
import type { Registry } from 'prom-client';
import type { ServiceName } from '../contracts/services.js';
import type { AppConfig, ListenAddress } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle } from '../db/client.js';
import type { NatsClient } from '../events/nats.js';
import { type OutboxRelay, startOutboxRelay } from '../events/relay.js';
import { createProcessSubgraphs, type ProcessSubgraphs } from '../graph/process-subgraphs.js';
import { startWorkerHttpServer, type WorkerHttpServer, workerReadiness } from './health-server.js';
import { createProcessRegistry } from './metrics.js';
import { startWorkers, type WorkerHost } from './worker-host.js';

export interface WorkerProcessOptions {
  services: ServiceName[];
  config: AppConfig;
  logger: Logger;
  database: DatabaseHandle;
  dataConverter: DataConverter;
  workflowBundlePath?: string;
  /** The process's registry (shared with the API when both run in one process); a new one when omitted. */
  registry?: Registry;
  /** The workers' HTTP server; null for none (the API's /metrics shows a shared registry). */
  http: ListenAddress | null;
  /** The SDK's Prometheus exporter; null for none. */
  temporalMetrics: ListenAddress | null;
  /** NATS, to relay the hosted services' outboxes; without it events wait in the outboxes. */
  nats?: NatsClient;
}

/** Running workers and their HTTP server. */
export interface WorkerProcess extends WorkerHost {
  /** Base URL of the HTTP server, if one was asked for. */
  httpUrl: string | undefined;
}

/** Starts the HTTP server (a taken port fails before any task is polled), then the workers; not ready until they run. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { services, database } = options;
  const registry = options.registry ?? createProcessRegistry();
  let host: WorkerHost | undefined;
  let http: WorkerHttpServer | undefined;
  let graph: ProcessSubgraphs | undefined;
  if (options.http) {
    // The hosted services' subgraphs, on the same server (the gateway reaches them at /graphql/<service>).
    graph = createProcessSubgraphs({
      names: services,
      db: database.db,
      config: options.config,
      logger: options.logger,
      dataConverter: options.dataConverter,
    });
    http = await startWorkerHttpServer({
      ...options.http,
      registry,
      subgraphs: graph.servers,
      readiness: () =>
        workerReadiness(host?.states() ?? Object.fromEntries(services.map((s) => [s, 'STARTING'])), () =>
          database.ping(),
        ),
    });
    options.logger.info(
      { url: http.url, endpoints: ['/metrics', '/healthz', '/readyz', ...graph.servers.map((s) => s.path)] },
      'worker http server',
    );
  }
  try {
    host = await startWorkers({
      services,
      config: options.config,
      logger: options.logger,
      db: database.db,
      dataConverter: options.dataConverter,
      registry,
      temporalMetrics: options.temporalMetrics,
      ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    });
  } catch (err) {
    await http?.close();
    await graph?.close();
    throw err;
  }
  const running = host;
  const { nats } = options;
  const relays: OutboxRelay[] = nats
    ? services.map((service) =>
        startOutboxRelay({
          service,
          database,
          nats,
          logger: options.logger,
          registry,
          retentionHours: options.config.events.outboxRetentionHours,
        }),
      )
    : [];
  let closing: Promise<void> | undefined;
  // After the workers drained, so the relays publish what their last activities committed.
  const close = () => {
    closing ??= Promise.all(relays.map((relay) => relay.stop()))
      .then(() => http?.close())
      .then(() => graph?.close());
    return closing;
  };
  return {
    httpUrl: http?.url,
    states: () => running.states(),
    done: running.done.finally(close),
    async shutdown() {
      await running.shutdown();
      await close();
    },
  };
}
