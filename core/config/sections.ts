/** The configuration's sections, built from a parsed and checked environment (./schema.ts, ./checks.ts). */
import type { SubgraphName } from '../../contracts/graph.js';
import type { SagaPlacement } from '../../contracts/orders.js';
import type { ServiceName } from '../../contracts/services.js';
import type { ClientKey, ConfiguredKey } from '../api-keys.js';
import { defaultBuildId } from '../build-id.js';
import type { PayloadKey } from '../payload-codec.js';
import type { ParsedEnv, TRACE_SAMPLERS } from './schema.js';

/** PEM from a file (read when connecting) or given inline; `variable` names its source in errors. */
export type PemSource = { variable: string; path: string } | { variable: string; data: string };

/** TLS material and server name for the Temporal connection; an empty object is TLS with the system's CAs. */
export interface TemporalTlsSettings {
  serverCaCert?: PemSource;
  clientCert?: PemSource;
  clientKey?: PemSource;
  serverName?: string;
}

/** Where Temporal is and how to reach it securely. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  external: boolean;
  uiPort: number;
  /** Null: plaintext gRPC (the local dev server). */
  tls: TemporalTlsSettings | null;
  apiKey: string | undefined;
}

/** TLS to Postgres; undefined keeps whatever the URL says (`?sslmode=`). */
export interface DatabaseSslSettings {
  mode: 'disable' | 'require' | 'verify-full';
  caFile?: string;
}

/**
 * How long a Postgres connection may take to open, run a statement or sit idle inside a transaction before it fails,
 * and when keepalives start (docs/RELIABILITY.md says why each is what it is). 0 turns a timeout off.
 */
export interface DatabaseTimeouts {
  connectSeconds: number;
  statementMs: number;
  idleInTransactionMs: number;
  keepAliveSeconds: number;
}

/** Payload encryption: on or off, the configured keys (empty: dev key file) and which one encrypts. */
export interface PayloadSettings {
  encryption: boolean;
  keys: PayloadKey[];
  encryptionKeyId: string | undefined;
  keyFile: string;
}

/** Who may call the codec server: key holders, anyone (dev mode without auth), or nobody (not mounted). */
export interface CodecSettings {
  access: 'keys' | 'open' | 'off';
  apiKeys: string[];
  corsOrigins: string[];
}

/** Settings only the API process uses (`createApp` takes a partial override of them in tests). */
export interface ApiSettings {
  temporalTimeoutMs: number;
  retryAfterSeconds: number;
  cursorSecret: string;
  maxInFlight: number;
  /** Order event streams (SSE) open at once; they are not counted in `maxInFlight` (docs/API.md). */
  maxEventStreams: number;
  /** Whether `/readyz` shows why a dependency failed; off in production (addresses of internal services). */
  exposeErrorDetails: boolean;
  /** Where the orders placed here run: the queue they start on (contracts/orders.ts). */
  placement: SagaPlacement;
}

/** Span sampling: the OTEL_TRACES_SAMPLER name and the ratio of the `*traceidratio` ones. */
export interface TraceSampling {
  sampler: (typeof TRACE_SAMPLERS)[number];
  ratio: number;
}

/** Distributed tracing (core/tracing.ts): where spans go, or `endpoint: undefined` for off. */
export interface TracingSettings {
  /** Full URL of the OTLP/HTTP traces endpoint; undefined: tracing off (no provider, nothing recorded). */
  endpoint: string | undefined;
  protocol: 'http/protobuf' | 'http/json';
  /** OTEL_SERVICE_NAME; undefined: each process names itself after its role. */
  serviceName: string | undefined;
  sampling: TraceSampling;
}

/** A host and port to listen on. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Slot and cache limits for every worker of the process; undefined keeps the SDK's default. */
export interface WorkerTuning {
  maxConcurrentActivities?: number;
  maxConcurrentLocalActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  maxCachedWorkflows?: number;
  maxTaskPolls?: number;
}

/** What a worker process runs and where it serves its metrics. */
export interface WorkerSettings {
  services: ServiceName[];
  /** Whose orders it takes: its services' queues (distributed), the colocated queue (when it runs every service). */
  placements: SagaPlacement[];
  /** Prebuilt workflow bundle; undefined bundles the workflows at start. */
  workflowBundlePath: string | undefined;
  shutdownGraceSeconds: number;
  tuning: WorkerTuning;
  /** The worker's own HTTP server (/metrics, /healthz, /readyz). */
  http: ListenAddress;
  /** The Temporal SDK's Prometheus exporter; null when turned off (port 0). */
  temporalMetrics: ListenAddress | null;
}

/** Limits of the event streams (events/streams.ts applies them to ORDER_EVENTS and its dead-letter stream). */
export interface EventStreamSettings {
  replicas: number;
  maxAgeHours: number;
  maxBytes: number;
  duplicateWindowSeconds: number;
}

/**
 * How a process proves who it is to NATS (one of NATS_CREDS, NATS_NKEY, NATS_USER[+NATS_PASSWORD]). Files are read
 * at every connect, so a rotated .creds file is picked up on the next reconnect.
 */
export type NatsAuth =
  | { kind: 'creds'; file: string }
  | { kind: 'nkey'; file: string }
  | { kind: 'user'; user: string; password: string }
  | { kind: 'token'; token: string };

/** TLS files of the NATS connection (NATS_CA, NATS_CERT + NATS_KEY); any of them makes TLS required. */
export interface NatsTlsSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Credentials and TLS of the NATS connection; both undefined: no auth, TLS only if the server asks for it. */
export interface NatsConnectionSettings {
  auth: NatsAuth | undefined;
  tls: NatsTlsSettings | undefined;
}

/** Where the events go (NATS JetStream) and how long the outbox keeps what it published. */
export interface EventSettings {
  /** NATS_URL as given; undefined when unset (`npm start` runs an embedded server, other processes relay nothing). */
  natsUrl: string | undefined;
  /** The servers of NATS_URL, one URL each; empty when unset. */
  natsServers: string[];
  /** Auth and TLS for those servers (events/nats.ts `natsConnectOptions` maps them to the client's options). */
  connection: NatsConnectionSettings;
  streams: EventStreamSettings;
  outboxRetentionHours: number;
  /** An event consumer process's own HTTP server (/metrics, /healthz, /readyz). */
  consumerHttp: ListenAddress;
}

/** The federated graph (graph/, api/graphql/): how the gateway reaches and guards its subgraphs. */
export interface GraphSettings {
  /** Off without an internal token in production, or where a subgraph listens beyond loopback. */
  enabled: boolean;
  internalToken: string | undefined;
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  subgraphTimeoutMs: number;
  breaker: { failures: number; openMs: number };
  maxDepth: number;
  maxCost: number;
  persistedOnly: boolean;
  closedOrderTtlMs: number;
}

/** The whole configuration of a process, one section per concern. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: ParsedEnv['LOG_LEVEL'];
  http: ListenAddress;
  api: ApiSettings;
  /** Configured keys; `enabled` is false only when neither variable has a key (dev mode). */
  auth: { apiKeys: ClientKey[]; adminKeys: ClientKey[]; enabled: boolean };
  temporal: TemporalSettings;
  database: {
    url: string | undefined;
    pgliteDir: string;
    poolSize: number;
    ssl: DatabaseSslSettings | undefined;
    timeouts: DatabaseTimeouts;
  };
  payloads: PayloadSettings;
  codec: CodecSettings;
  worker: WorkerSettings;
  versioning: { enabled: boolean; deploymentPrefix: string; buildId: string };
  events: EventSettings;
  tracing: TracingSettings;
  graph: GraphSettings;
  faults: { rate: number; afterRate: number; latencyMs: number };
}

/** Default worker HTTP port of a process running exactly one service. */
export const WORKER_HTTP_PORTS: Record<ServiceName, number> = {
  orders: 9091,
  inventory: 9092,
  payments: 9093,
  shipping: 9094,
};
/** Default worker HTTP port of a process running several services. */
export const SHARED_WORKER_HTTP_PORT = 9095;

/** Default Temporal SDK metrics port of a process running exactly one service. */
export const TEMPORAL_METRICS_PORTS: Record<ServiceName, number> = {
  orders: 9465,
  inventory: 9466,
  payments: 9467,
  shipping: 9468,
};
/** Default Temporal SDK metrics port of a process running several services (`npm start` runs all four). */
export const SHARED_TEMPORAL_METRICS_PORT = 9464;

/** `host:port` for an address, with IPv6 hosts in brackets. */
export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Builds the sections; the environment has passed ./checks.ts, so the sections need not re-check it. */
export function buildConfig(e: ParsedEnv): AppConfig {
  const production = e.NODE_ENV === 'production';
  const authEnabled = e.API_KEYS.length > 0 || e.ADMIN_API_KEYS.length > 0;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: { host: e.HOST, port: e.PORT },
    api: {
      temporalTimeoutMs: e.API_TEMPORAL_TIMEOUT_MS,
      retryAfterSeconds: e.API_RETRY_AFTER_SECONDS,
      cursorSecret: e.API_CURSOR_SECRET,
      maxInFlight: e.API_MAX_IN_FLIGHT,
      maxEventStreams: e.API_MAX_EVENT_STREAMS,
      placement: e.SAGA_PLACEMENT,
      exposeErrorDetails: !production,
    },
    auth: {
      apiKeys: e.API_KEYS.map(clientKey),
      adminKeys: e.ADMIN_API_KEYS.map(clientKey),
      enabled: authEnabled,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      namespace: e.TEMPORAL_NAMESPACE,
      external: e.TEMPORAL_ADDRESS !== undefined,
      uiPort: e.TEMPORAL_UI_PORT,
      tls: temporalTls(e),
      apiKey: e.TEMPORAL_API_KEY,
    },
    database: {
      url: e.DATABASE_URL,
      pgliteDir: e.PGLITE_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      timeouts: {
        connectSeconds: e.DATABASE_CONNECT_TIMEOUT_S,
        statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
        idleInTransactionMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        keepAliveSeconds: e.DATABASE_KEEPALIVE_S,
      },
      ssl:
        e.DATABASE_SSL || e.DATABASE_SSL_CA
          ? {
              mode: e.DATABASE_SSL ?? 'verify-full',
              ...(e.DATABASE_SSL_CA ? { caFile: e.DATABASE_SSL_CA } : {}),
            }
          : undefined,
    },
    payloads: {
      encryption: e.PAYLOAD_ENCRYPTION === 'true',
      keys: e.PAYLOAD_KEYS,
      encryptionKeyId: e.PAYLOAD_ENCRYPTION_KEY_ID,
      keyFile: e.PAYLOAD_KEY_FILE,
    },
    codec: {
      // Without operator keys the codec is open only where everything is (dev mode, auth off).
      access: e.CODEC_API_KEYS.length > 0 ? 'keys' : !production && !authEnabled ? 'open' : 'off',
      apiKeys: e.CODEC_API_KEYS,
      corsOrigins:
        e.CODEC_CORS_ORIGIN.length > 0
          ? e.CODEC_CORS_ORIGIN
          : production
            ? []
            : [`http://127.0.0.1:${e.TEMPORAL_UI_PORT}`, `http://localhost:${e.TEMPORAL_UI_PORT}`],
    },
    worker: workerSettings(e),
    versioning: {
      enabled: e.WORKER_VERSIONING ? e.WORKER_VERSIONING === 'true' : production,
      deploymentPrefix: e.WORKER_DEPLOYMENT_PREFIX,
      buildId: e.WORKER_BUILD_ID ?? defaultBuildId(),
    },
    events: {
      natsUrl: e.NATS_URL?.join(','),
      natsServers: e.NATS_URL ?? [],
      connection: { auth: natsAuth(e), tls: natsTls(e) },
      streams: {
        replicas: e.EVENTS_STREAM_REPLICAS,
        maxAgeHours: e.EVENTS_STREAM_MAX_AGE_HOURS,
        maxBytes: e.EVENTS_STREAM_MAX_BYTES,
        duplicateWindowSeconds: e.EVENTS_DUPLICATE_WINDOW_SECONDS,
      },
      outboxRetentionHours: e.EVENTS_OUTBOX_RETENTION_HOURS,
      consumerHttp: { host: e.CONSUMER_HTTP_HOST, port: e.CONSUMER_HTTP_PORT },
    },
    tracing: tracingSettings(e),
    graph: {
      // Without a token subgraphs believe the caller headers: only in dev, and only on loopback.
      enabled:
        e.GRAPH_INTERNAL_TOKEN !== undefined ||
        (!production && isLoopback(e.WORKER_HTTP_HOST) && isLoopback(e.CONSUMER_HTTP_HOST)),
      internalToken: e.GRAPH_INTERNAL_TOKEN,
      subgraphUrls: e.GRAPH_SUBGRAPH_URLS,
      subgraphTimeoutMs: e.GRAPH_SUBGRAPH_TIMEOUT_MS,
      breaker: { failures: e.GRAPH_BREAKER_FAILURES, openMs: e.GRAPH_BREAKER_OPEN_MS },
      maxDepth: e.GRAPH_MAX_DEPTH,
      maxCost: e.GRAPH_MAX_COST,
      persistedOnly: e.GRAPH_PERSISTED_ONLY ?? false,
      closedOrderTtlMs: e.GRAPH_CLOSED_ORDER_TTL_SECONDS * 1000,
    },
    faults: { rate: e.FAULT_RATE, afterRate: e.FAULT_AFTER_RATE, latencyMs: e.FAULT_LATENCY_MS },
  };
}

const clientKey = ({ clientId, key }: ConfiguredKey): ClientKey => ({ clientId, key });

/** Whether a listen host only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Ports default per service when the process runs one, so the four worker processes fit on one machine. */
function workerSettings(e: ParsedEnv): WorkerSettings {
  const services = e.WORKER_SERVICES;
  const only = services.length === 1 ? services[0] : undefined;
  const sdkPort =
    e.TEMPORAL_METRICS_PORT ?? (only ? TEMPORAL_METRICS_PORTS[only] : SHARED_TEMPORAL_METRICS_PORT);
  return {
    services,
    placements: e.WORKER_PLACEMENTS,
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    tuning: {
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxTaskPolls: e.WORKER_MAX_TASK_POLLS,
    },
    http: {
      host: e.WORKER_HTTP_HOST,
      port: e.WORKER_HTTP_PORT ?? (only ? WORKER_HTTP_PORTS[only] : SHARED_WORKER_HTTP_PORT),
    },
    temporalMetrics: sdkPort === 0 ? null : { host: e.TEMPORAL_METRICS_HOST, port: sdkPort },
  };
}

/** A PEM setting from its `_PATH` or `_DATA` variable (./checks.ts refuses both at once). */
function pem(e: ParsedEnv, name: 'SERVER_CA_CERT' | 'CLIENT_CERT' | 'CLIENT_KEY'): PemSource | undefined {
  const pathVariable = `TEMPORAL_TLS_${name}_PATH` as const;
  const dataVariable = `TEMPORAL_TLS_${name}_DATA` as const;
  const file = e[pathVariable];
  const data = e[dataVariable];
  if (file) return { variable: pathVariable, path: file };
  if (data) return { variable: dataVariable, data };
  return undefined;
}

/** TLS is on when asked for or implied by a CA, a client certificate, a server name or an API key. */
function temporalTls(e: ParsedEnv): TemporalTlsSettings | null {
  const serverCaCert = pem(e, 'SERVER_CA_CERT');
  const clientCert = pem(e, 'CLIENT_CERT');
  const clientKey = pem(e, 'CLIENT_KEY');
  const implied = Boolean(
    serverCaCert || clientCert || clientKey || e.TEMPORAL_TLS_SERVER_NAME || e.TEMPORAL_API_KEY,
  );
  if (e.TEMPORAL_TLS === false || (e.TEMPORAL_TLS === undefined && !implied)) return null;
  return {
    ...(serverCaCert ? { serverCaCert } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/** The one way to authenticate that ./checks.ts let through; NATS_USER alone is a token, as the NATS CLI reads it. */
function natsAuth(e: ParsedEnv): NatsAuth | undefined {
  if (e.NATS_CREDS) return { kind: 'creds', file: e.NATS_CREDS };
  if (e.NATS_NKEY) return { kind: 'nkey', file: e.NATS_NKEY };
  if (e.NATS_USER && e.NATS_PASSWORD) return { kind: 'user', user: e.NATS_USER, password: e.NATS_PASSWORD };
  if (e.NATS_USER) return { kind: 'token', token: e.NATS_USER };
  return undefined;
}

/** TLS when a CA or a client certificate is given; otherwise whatever the server and the URL (`tls://`) ask for. */
function natsTls(e: ParsedEnv): NatsTlsSettings | undefined {
  if (!e.NATS_CA && !e.NATS_CERT && !e.NATS_KEY) return undefined;
  return {
    ...(e.NATS_CA ? { caFile: e.NATS_CA } : {}),
    ...(e.NATS_CERT ? { certFile: e.NATS_CERT } : {}),
    ...(e.NATS_KEY ? { keyFile: e.NATS_KEY } : {}),
  };
}

/** OTLP traces go to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else to `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
function tracingSettings(e: ParsedEnv): TracingSettings {
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base}/v1/traces` : undefined);
  const off = e.OTEL_SDK_DISABLED === 'true' || e.OTEL_TRACES_EXPORTER === 'none';
  return {
    endpoint: off ? undefined : endpoint,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL,
    serviceName: e.OTEL_SERVICE_NAME,
    sampling: { sampler: e.OTEL_TRACES_SAMPLER, ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1 },
  };
}
