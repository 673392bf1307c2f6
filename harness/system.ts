/**
 * The whole system in this process, built with the assembly functions the processes use in production: the
 * workers with `startWorkerProcess` (workers/main.ts) and the API with `startApiServer` (api/server.ts). `npm start`
 * and the tests' in-process stack run it; they differ only in what they pass in.
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { type ApiServer, startApiServer } from '../api/configured-app.js';
import {
  type NotificationsServiceOptions,
  startNotificationsService,
} from '../consumers/notifications/service.js';
import { ORDER_EVENTS_STREAM } from '../contracts/events.js';
import { SERVICE_NAMES, type ServiceName } from '../contracts/services.js';
import type { ApiSettings, AppConfig, ListenAddress } from '../core/config.js';
import type { PayloadProtection } from '../core/data-converter.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle } from '../db/client.js';
import type { EventConsumer } from '../events/consumer.js';
import { createNatsClient, natsConnectOptions } from '../events/nats.js';
import { createProcessSubgraphs } from '../graph/process-subgraphs.js';
import { type SubgraphHttpServer, startSubgraphHttpServer } from '../graph/subgraph-http.js';
import { SUBGRAPH_NAMES, type SubgraphName, subgraphPath } from '../graph/subgraphs.js';
import { startWorkerProcess, type WorkerProcess } from '../workers/worker-process.js';

export interface SystemOptions {
  config: AppConfig;
  protection: PayloadProtection;
  database: DatabaseHandle;
  logger: Logger;
  /** Where the API listens (the port may be 0 for a free one). */
  apiListen: ListenAddress;
  /** Overrides of `config.api`. */
  apiSettings?: Partial<ApiSettings>;
  workflowBundlePath?: string;
  /**
   * `shared`: every service's worker in one host, as one `worker --service all` process runs them (npm start).
   * `per-service`: one host per service, so a test can stop one service's worker while the others go on.
   */
  workerLayout: 'shared' | 'per-service';
  /** One registry for the workers and the API, so the API's /metrics shows both; separate ones when omitted. */
  registry?: Registry;
  /** The workers' own HTTP server (/metrics, /healthz, /readyz); `shared` layout only. */
  workerHttp?: ListenAddress | null;
  /** The SDK's Prometheus exporter (installed once per process, by the first host). */
  temporalMetrics?: ListenAddress | null;
  /** Runs the event consumers (the notifications service) too; default: whenever NATS is configured. */
  consumers?: boolean;
  /**
   * Overrides of the notifications consumer (durable name, start, retries). Default: the `notifications` durable,
   * or with NODE_ENV=test one of the stack's own, from its start time.
   */
  notificationsConsumer?: NotificationsServiceOptions['consumer'];
}

export interface InProcessSystem {
  apiUrl: string;
  workerHttpUrl: string | undefined;
  /**
   * Where each subgraph answers: each on a loopback port of its own, so a test can stop one; with a worker HTTP
   * server the services' subgraphs are on it (and cannot be stopped alone).
   */
  subgraphUrls: Record<SubgraphName, string>;
  /** Stops one subgraph's server (its port refuses connections), as a crashed or rolled-out service would. */
  stopSubgraph(name: SubgraphName): Promise<void>;
  /** Serves it again on the same port. */
  startSubgraph(name: SubgraphName): Promise<void>;
  /** Rejects when a worker fails (the process should stop, as its supervisor would restart it). */
  workerFailure: Promise<never>;
  /** Replaces the API (new app, new Temporal client) on the same address, as a redeploy would. */
  restartApi(): Promise<void>;
  /** Drains one service's worker (`per-service` layout), as a crash, a scale-to-zero or a drained rollout would. */
  stopWorker(service: ServiceName): Promise<void>;
  startWorker(service: ServiceName): Promise<void>;
  /** Stops the API, then drains the workers; the database and Temporal belong to the caller. */
  stop(): Promise<void>;
}

/** Starts the workers, then the API. */
export async function startSystem(options: SystemOptions): Promise<InProcessSystem> {
  const { config, protection, database, logger } = options;
  if (options.workerLayout === 'per-service' && options.workerHttp) {
    throw new Error('a worker HTTP server needs the shared layout (one server per process)');
  }
  let failed: (err: unknown) => void = () => {};
  const workerFailure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  // Nobody may be listening (tests); the rejection is still delivered to whoever awaits it.
  workerFailure.catch(() => {});
  // The workers' relays publish through one connection, as one worker process does; none without NATS_URL.
  const { natsServers } = config.events;
  const relayNats =
    natsServers.length > 0
      ? createNatsClient({ ...natsConnectOptions(config.events), name: 'system:relays', logger })
      : undefined;
  const startHost = async (services: ServiceName[]) => {
    const host = await startWorkerProcess({
      services,
      config,
      logger,
      database,
      dataConverter: protection.dataConverter,
      http: options.workerHttp ?? null,
      temporalMetrics: options.temporalMetrics ?? null,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
      ...(relayNats ? { nats: relayNats } : {}),
    });
    host.done.catch(failed);
    return host;
  };
  const hosts = new Map<string, WorkerProcess>();
  if (options.workerLayout === 'shared') hosts.set('all', await startHost([...SERVICE_NAMES]));
  else for (const service of SERVICE_NAMES) hosts.set(service, await startHost([service]));
  const workerHttpUrl = hosts.get('all')?.httpUrl;

  // The notifications service on its own connection, as its own process would run it. Test stacks share the run's
  // NATS server, each with its own database: each gets a durable of its own from its start (a shared durable would
  // split the events between their databases), removed when it stops.
  const testDurable =
    config.env === 'test' && !options.notificationsConsumer?.name
      ? { name: `notifications_${randomBytes(4).toString('hex')}`, start: { time: new Date() } }
      : undefined;
  const consumerOverrides = { ...testDurable, ...options.notificationsConsumer };
  const consumerNats =
    natsServers.length > 0 && options.consumers !== false
      ? createNatsClient({ ...natsConnectOptions(config.events), name: 'system:consumers', logger })
      : undefined;
  const notifications: EventConsumer | undefined = consumerNats
    ? startNotificationsService({
        database,
        nats: consumerNats,
        logger,
        streams: config.events.streams,
        ...(options.registry ? { registry: options.registry } : {}),
        consumer: consumerOverrides,
      })
    : undefined;
  const stopConsumers = async () => {
    await notifications?.stop();
    if (testDurable && consumerNats?.connected) {
      await consumerNats
        .manager()
        .then((jsm) => jsm.consumers.delete(ORDER_EVENTS_STREAM, testDurable.name))
        .catch(() => false);
    }
    await consumerNats?.close();
  };

  // The subgraphs, one loopback server each, so a test can stop one. Worker hosts with an HTTP server serve their
  // services' subgraphs themselves (as a worker process does); the consumer has none, so its is served here.
  const servedByWorkers = workerHttpUrl !== undefined;
  const graph = createProcessSubgraphs({
    names: servedByWorkers ? ['notifications'] : SUBGRAPH_NAMES,
    db: database.db,
    config,
    logger: logger.child({ service: 'graph' }),
    dataConverter: protection.dataConverter,
  });
  const subgraphHttp = new Map<SubgraphName, SubgraphHttpServer>();
  const subgraphPorts = new Map<SubgraphName, number>();
  const serveSubgraph = async (name: SubgraphName) => {
    const server = graph.servers.find((s) => s.name === name);
    if (!server || subgraphHttp.has(name)) return;
    const http = await startSubgraphHttpServer({
      host: '127.0.0.1',
      port: subgraphPorts.get(name) ?? 0,
      servers: [server],
    });
    subgraphPorts.set(name, Number(new URL(http.url).port));
    subgraphHttp.set(name, http);
  };
  for (const server of graph.servers) await serveSubgraph(server.name);
  const subgraphUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => {
      const port = subgraphPorts.get(name);
      const base = port === undefined && workerHttpUrl ? workerHttpUrl : `http://127.0.0.1:${port ?? 0}`;
      return [name, `${base}${subgraphPath(name)}`];
    }),
  ) as Record<SubgraphName, string>;
  const stopSubgraphs = async () => {
    await Promise.all([...subgraphHttp.values()].map((http) => http.close()));
    subgraphHttp.clear();
    await graph.close();
  };
  // Configured URLs win: GRAPH_SUBGRAPH_URLS may point the gateway at subgraphs served elsewhere.
  const apiConfig: AppConfig = {
    ...config,
    graph: { ...config.graph, subgraphUrls: { ...subgraphUrls, ...config.graph.subgraphUrls } },
  };

  const startApi = (listen: ListenAddress) =>
    startApiServer({
      config: apiConfig,
      protection,
      database,
      logger: logger.child({ service: 'api' }),
      listen,
      ...(options.apiSettings ? { settings: options.apiSettings } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
    });
  let api: ApiServer;
  try {
    api = await startApi(options.apiListen);
  } catch (err) {
    await stopSubgraphs();
    await stopConsumers();
    await Promise.all([...hosts.values()].map((host) => host.shutdown()));
    await relayNats?.close();
    throw err;
  }
  // A restart binds the port the first start got (it may have asked for 0).
  const bound = { host: options.apiListen.host, port: Number(new URL(api.url).port) };
  return {
    apiUrl: api.url,
    workerHttpUrl,
    subgraphUrls,
    async stopSubgraph(name) {
      await subgraphHttp.get(name)?.close();
      subgraphHttp.delete(name);
    },
    startSubgraph: serveSubgraph,
    workerFailure,
    async restartApi() {
      await api.close();
      api = await startApi(bound);
    },
    async stopWorker(service) {
      await hosts.get(service)?.shutdown();
      hosts.delete(service);
    },
    async startWorker(service) {
      if (options.workerLayout !== 'per-service') throw new Error('startWorker needs the per-service layout');
      if (!hosts.has(service)) hosts.set(service, await startHost([service]));
    },
    async stop() {
      await api.close();
      await stopSubgraphs();
      await stopConsumers();
      await Promise.all([...hosts.values()].map((host) => host.shutdown()));
      await relayNats?.close();
    },
  };
}
