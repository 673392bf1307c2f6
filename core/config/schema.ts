/**
 * Every environment variable the processes read, one zod shape per section (the sections of the README's
 * configuration table), composed into one environment. Parsing only: checks across variables are in ./checks.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseSubgraphUrls } from '../../contracts/graph.js';
import { SAGA_PLACEMENTS, type SagaPlacement } from '../../contracts/orders.js';
import { SERVICE_NAMES, type ServiceName } from '../../contracts/services.js';
import { type ConfiguredKey, parseClientKeys } from '../api-keys.js';
import { parsePayloadKeys } from '../payload-keys.js';

/** Root of the repository (this file lives in `core/config/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The listing cursor key used when none is configured: fine locally, refused in production (cursors forgeable). */
export const BUILT_IN_CURSOR_SECRET = 'order-saga-cursor-v1';

/** The Postgres `statement_timeout` every session gets unless DATABASE_STATEMENT_TIMEOUT_MS says otherwise, ms. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

/** Defaults of the API section, also what `createApp` uses when a test builds the app without configuration. */
export const API_DEFAULTS = {
  temporalTimeoutMs: 5_000,
  retryAfterSeconds: 5,
  maxInFlight: 512,
  maxEventStreams: 1_000,
  cursorSecret: BUILT_IN_CURSOR_SECRET,
  placement: 'distributed',
} as const;

/** A setting where an empty value (`VAR=`) means unset, as a shell or compose file often writes it. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const optionalText = unsetIfEmpty(z.string().min(1).optional());
const port = z.coerce.number().int().min(0).max(65535);
const probability = z.coerce.number().min(0).max(1);

/** `true`/`false`, also `1`/`0` as Temporal's environment configuration accepts them. */
const flag = unsetIfEmpty(
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true' || value === '1')),
);

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );

/** A parser from core/ whose thrown message becomes the variable's issue. */
const parsedWith = <T>(parse: (value: string) => T, whenUnset: () => T) =>
  z
    .string()
    .optional()
    .transform((value, ctx): T => {
      if (value === undefined || value === '') return whenUnset();
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/** `clientId:key` pairs (core/api-keys.ts); unset or empty means none. */
const clientKeys = parsedWith<ConfiguredKey[]>(parseClientKeys, () => []);

/** `distributed`, `colocated` or both, comma separated. */
export function parsePlacements(spec: string): SagaPlacement[] {
  const names = spec
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SAGA_PLACEMENTS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`expected ${SAGA_PLACEMENTS.join(' and/or ')}, comma separated; got "${spec}"`);
  }
  return SAGA_PLACEMENTS.filter((placement) => names.includes(placement));
}

/** `orders,payments` or `all` (the default): the services a worker process runs. */
export function parseServices(spec: string): ServiceName[] {
  const names = spec
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0 || names.includes('all')) return [...SERVICE_NAMES];
  const unknown = names.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown service ${unknown.map((n) => `"${n}"`).join(', ')}; expected ${SERVICE_NAMES.join(', ')} or all`,
    );
  }
  return [...new Set(names)] as ServiceName[];
}

/** PEM text given inline (the `_DATA` variables), e.g. from a Kubernetes Secret. */
const pemData = unsetIfEmpty(
  z.string().includes('-----BEGIN ', { error: 'expected PEM text ("-----BEGIN …")' }).optional(),
);

/** A variable this project used to read under another name: refused, naming the standard one. */
const renamed = (standard: string) =>
  unsetIfEmpty(
    z.undefined({ error: `no longer read: use ${standard} (Temporal's standard name; same meaning)` }),
  );

/** A standard Temporal variable the app does not honour: refused rather than silently ignored. */
const unsupported = (why: string) => unsetIfEmpty(z.undefined({ error: why }));

const processVars = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

const apiVars = {
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  /** Upper bound of one Temporal RPC made for a request, so an outage answers 503 quickly instead of hanging. */
  API_TEMPORAL_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(API_DEFAULTS.temporalTimeoutMs),
  /** Seconds a client is told (Retry-After) to wait when Temporal or the database is down. */
  API_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3_600).default(API_DEFAULTS.retryAfterSeconds),
  /** Requests under /v1 allowed in progress at once; past it the API sheds load with 503 + Retry-After. */
  API_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(API_DEFAULTS.maxInFlight),
  /** Server-Sent Event streams of order events open at once; past it a new one is refused with 503 + Retry-After. */
  API_MAX_EVENT_STREAMS: z.coerce.number().int().min(1).max(100_000).default(API_DEFAULTS.maxEventStreams),
  /**
   * Where the orders this process places run (docs/BENCHMARKS.md): `distributed`, each service's steps on its own
   * workers; `colocated`, all in a worker process hosting every service (`npm start` defaults to it).
   */
  SAGA_PLACEMENT: unsetIfEmpty(z.enum(SAGA_PLACEMENTS).default(API_DEFAULTS.placement)),
  /** Key of the listing cursor's integrity tag; set it to make cursors unforgeable across replicas. */
  API_CURSOR_SECRET: unsetIfEmpty(z.string().min(1).default(API_DEFAULTS.cursorSecret)),
};

const authVars = {
  /** Client keys, `clientId:key,clientId:key`; a clientId may have several keys (rotation). */
  API_KEYS: clientKeys,
  /** Admin keys in the same format: they also change the catalog and see every client's orders. */
  ADMIN_API_KEYS: clientKeys,
};

/** Temporal's standard client variables (Temporal CLI, SDK environment configuration); TOML profiles are not read. */
const temporalVars = {
  /** Set to use an existing Temporal server; unset in dev mode starts a local dev server. */
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** API key sent as a bearer token (Temporal Cloud); turns TLS on. */
  TEMPORAL_API_KEY: optionalText,
  /** TLS with the system's CAs; implied by any TLS setting below or an API key; false refuses them. */
  TEMPORAL_TLS: flag,
  /** CA of the frontend's certificate (a private CA), as a file or inline PEM. */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: pemData,
  /** Client certificate and key for mTLS, each as a file or inline PEM. */
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_CERT_DATA: pemData,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_DATA: pemData,
  /** Overrides the TLS server name (SNI and host name check), e.g. behind a proxy or for an address by IP. */
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  /** Only `false` is accepted: the TypeScript SDK cannot skip host verification (see ./checks.ts). */
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: flag,
  TEMPORAL_TLS_CA: renamed('TEMPORAL_TLS_SERVER_CA_CERT_PATH'),
  TEMPORAL_TLS_CERT: renamed('TEMPORAL_TLS_CLIENT_CERT_PATH'),
  TEMPORAL_TLS_KEY: renamed('TEMPORAL_TLS_CLIENT_KEY_PATH'),
  TEMPORAL_CONFIG_FILE: unsupported(
    'TOML profiles are not read; set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TLS_* / TEMPORAL_API_KEY',
  ),
  TEMPORAL_PROFILE: unsupported(
    'TOML profiles are not read; set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TLS_* / TEMPORAL_API_KEY',
  ),
};

const databaseVars = {
  /** Postgres URL; unset means the embedded PGlite under `PGLITE_DIR`. */
  DATABASE_URL: z.string().url().optional(),
  PGLITE_DIR: z.string().default(path.join(PROJECT_ROOT, '.data', 'pglite')),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** TLS to Postgres: `require` encrypts, `verify-full` also checks the certificate and host name. */
  DATABASE_SSL: unsetIfEmpty(z.enum(['disable', 'require', 'verify-full']).optional()),
  /** PEM file of the CA that signed the Postgres server certificate (implies `verify-full`). */
  DATABASE_SSL_CA: optionalText,
  /** Seconds to open a Postgres connection (TCP, TLS and authentication) before giving up. */
  DATABASE_CONNECT_TIMEOUT_S: z.coerce.number().int().min(1).max(300).default(3),
  /**
   * Postgres `statement_timeout` of every session, ms (0: none, and no answer deadline either; answers later than the
   * default's deadline are still logged).
   */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(DEFAULT_STATEMENT_TIMEOUT_MS),
  /** Postgres `idle_in_transaction_session_timeout`, ms: the server ends a session whose client went quiet mid-transaction. */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** Seconds of idleness before TCP keepalive probes start on a Postgres connection. */
  DATABASE_KEEPALIVE_S: z.coerce.number().int().min(1).max(3_600).default(10),
};

const payloadVars = {
  /** Payload encryption keys, `id:base64,id:base64` (32 bytes each); all decrypt, the last one encrypts. */
  PAYLOAD_KEYS: parsedWith(parsePayloadKeys, () => []),
  /** Id of the key that encrypts, when it is not the last one (add a key everywhere first, then switch). */
  PAYLOAD_ENCRYPTION_KEY_ID: optionalText,
  /** `false` turns payload encryption off (refused in production). */
  PAYLOAD_ENCRYPTION: z.enum(['true', 'false']).default('true'),
  /** Where development mode keeps its generated key when PAYLOAD_KEYS is unset. */
  PAYLOAD_KEY_FILE: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, '.data', 'payload-keys')),
};

const codecVars = {
  /** Operator keys of the codec server (`/codec/decode`, `/codec/encode`). */
  CODEC_API_KEYS: csv,
  /** Browser origins (the Temporal UI) allowed to call the codec server; default: the local dev server's UI. */
  CODEC_CORS_ORIGIN: csv,
};

const workerVars = {
  /** Services a worker process runs (`--service` overrides it). */
  WORKER_SERVICES: parsedWith(parseServices, () => [...SERVICE_NAMES]),
  /**
   * The placements whose orders the worker takes, `distributed,colocated` by default: its services' own queues,
   * and the colocated queue when it runs every service. `colocated` alone: a process that takes only colocated
   * orders (its services' queues unpolled).
   */
  WORKER_PLACEMENTS: parsedWith(parsePlacements, () => [...SAGA_PLACEMENTS]),
  /** Prebuilt workflow bundle (`npm run build:workflows`); unset bundles at start (`--workflow-bundle` overrides). */
  WORKFLOW_BUNDLE_PATH: optionalText,
  /** Seconds a worker waits for in-flight tasks on shutdown. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(20),
  /** Interface and port of the worker's HTTP server (/metrics, /healthz, /readyz); port 0 picks a free one. */
  WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_HTTP_PORT: unsetIfEmpty(port.optional()),
  /** Interface and port of the Temporal SDK's Prometheus exporter; port 0 turns it off. */
  TEMPORAL_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TEMPORAL_METRICS_PORT: unsetIfEmpty(port.optional()),
  /** Worker slots and caches (unset: the SDK's defaults; docs/BENCHMARKS.md has what tuning them changed). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).optional(),
  /** 0 turns the sticky cache off (every workflow task replays the history: much slower); otherwise at least 2. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
    .optional(),
  /** Long polls each worker keeps open per task queue, for workflow tasks and for activity tasks. */
  WORKER_MAX_TASK_POLLS: z.coerce.number().int().min(2).max(100).optional(),
};

const versioningVars = {
  /** Build id workers announce; default: the git commit, else the package version. */
  WORKER_BUILD_ID: z.string().min(1).max(255).optional(),
  /** Worker deployment names are `<prefix>-<service>`. */
  WORKER_DEPLOYMENT_PREFIX: z.string().min(1).default('order-saga'),
  /** Deployment-based versioning (tasks routed by build id); default on in production only. */
  WORKER_VERSIONING: z.enum(['true', 'false']).optional(),
};

/** The NATS servers of NATS_URL: `nats://host:port` (or `tls://`), several comma-separated for a cluster. */
export function parseNatsUrl(spec: string): string[] {
  const servers = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new Error('expected nats://host:port (several comma-separated)');
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new Error(`"${server}" is not a URL; expected nats://host:port`);
    }
    if (!['nats:', 'tls:'].includes(url.protocol) || !url.hostname) {
      throw new Error(`"${server}": expected nats://host:port or tls://host:port`);
    }
  }
  return servers;
}

const eventsVars = {
  /** NATS servers; unset: `npm start` runs an embedded one, any other process publishes nothing (rows wait). */
  NATS_URL: parsedWith<string[] | undefined>(parseNatsUrl, () => undefined),
  /** Copies of each stream in a NATS cluster (JetStream allows 1 to 5). */
  EVENTS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** How long ORDER_EVENTS keeps an event (a consumer down longer than this misses events). */
  EVENTS_STREAM_MAX_AGE_HOURS: z.coerce.number().int().min(1).max(87_600).default(168),
  /** Size cap of ORDER_EVENTS; past it the oldest events go first. */
  EVENTS_STREAM_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(1024 * 1024 * 1024),
  /** How long the stream remembers a `Nats-Msg-Id`: a relay's re-publish within it is dropped. */
  EVENTS_DUPLICATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(120),
  /** Hours a published outbox row is kept before the relay deletes it. */
  EVENTS_OUTBOX_RETENTION_HOURS: z.coerce.number().int().min(0).max(8_760).default(24),
  /** Interface and port of an event consumer process's HTTP server (/metrics, /healthz, /readyz); 0 = any free. */
  CONSUMER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CONSUMER_HTTP_PORT: port.default(9096),
};

/**
 * How every process authenticates to NATS and secures the connection: the NATS CLI's own variable names and
 * meanings (`nats --creds`, `--nkey`, `--user`, `--password`, `--tlsca`, `--tlscert`, `--tlskey`). At most one
 * way to authenticate; NATS_USER without NATS_PASSWORD is a token, as the CLI reads it (see ./checks.ts).
 */
const natsAuthVars = {
  /** Path to a `.creds` file (user JWT and NKey seed, from `nsc` or `nats auth`): decentralized auth. */
  NATS_CREDS: optionalText,
  /** Path to a file holding a user NKey seed (`SU…`), for a server listing the user's public key. */
  NATS_NKEY: optionalText,
  /** User name, with NATS_PASSWORD; alone, it is an authorization token. */
  NATS_USER: optionalText,
  NATS_PASSWORD: optionalText,
  /** PEM file of the CA that signed the server's certificate (a private CA); implies TLS. */
  NATS_CA: optionalText,
  /** Client certificate and key PEM files for mutual TLS; set both. */
  NATS_CERT: optionalText,
  NATS_KEY: optionalText,
};

/** Span samplers OpenTelemetry names in OTEL_TRACES_SAMPLER; the `parentbased_*` ones keep a trace whole across processes. */
export const TRACE_SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;

/** An OTLP/HTTP endpoint: an http(s) URL. */
const otlpEndpoint = unsetIfEmpty(
  z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of an OTLP/HTTP receiver' }).optional(),
);

/**
 * Distributed tracing, with OpenTelemetry's own variable names and meanings (the SDK environment specification);
 * tracing is on only when an OTLP endpoint is set. OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES and the
 * OTEL_BSP_* batch limits are read by the SDK itself.
 */
const tracingVars = {
  /** `true` turns tracing off whatever else is set. */
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
  /** Base URL of an OTLP/HTTP receiver (a Collector, Jaeger, Tempo); traces go to `<it>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  /** Full URL traces go to, used as given (wins over OTEL_EXPORTER_OTLP_ENDPOINT). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint,
  /** OTLP over HTTP as protobuf (the specification's default) or JSON; gRPC is not shipped. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  /** `otlp` (the default) or `none`. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  /** `service.name` of the process's spans; default: `order-saga-<role>` (api, worker-<service>, …). */
  OTEL_SERVICE_NAME: optionalText,
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  /** The ratio of the `*traceidratio` samplers, 0..1 (default 1). */
  OTEL_TRACES_SAMPLER_ARG: unsetIfEmpty(probability.optional()),
};

const faultVars = {
  /** Probability (0..1) that an activity attempt fails with an injected transient error. */
  FAULT_RATE: probability.default(0),
  /** Probability (0..1) that an attempt fails AFTER its work is done (a lost completion): retries must be no-ops. */
  FAULT_AFTER_RATE: probability.default(0),
  /** Extra latency in ms added to every activity attempt. */
  FAULT_LATENCY_MS: z.coerce.number().int().min(0).default(0),
};

const graphVars = {
  /** Shared secret the gateway sends its subgraphs; without it in production the graph is off (/graphql 503). */
  GRAPH_INTERNAL_TOKEN: optionalText,
  /** Where subgraphs answer, `orders=http://…/graphql/orders,…`; unset ones: the supergraph's (compose) URLs. */
  GRAPH_SUBGRAPH_URLS: parsedWith(parseSubgraphUrls, () => ({})),
  /** How long the gateway waits for one subgraph call before answering without its fields. */
  GRAPH_SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** Consecutive failed calls that open a subgraph's circuit (calls then fail at once). */
  GRAPH_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  /** How long an open circuit stays open before one trial call may close it. */
  GRAPH_BREAKER_OPEN_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Deepest selection an operation may have. */
  GRAPH_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(8),
  /** Highest cost an operation may have (graphql-armor's static cost; the page of orders over all services is ~90). */
  GRAPH_MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(1_000),
  /** Whether only the operations of graph/operations/ (by sha256 hash) are served. */
  GRAPH_PERSISTED_ONLY: flag,
  /** How long the orders subgraph keeps a closed order's final view in memory (0: not at all). */
  GRAPH_CLOSED_ORDER_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
};

/** The sections of the environment; each parses on its own, so one bad section hides no problem of another. */
export const SECTION_SCHEMAS = {
  process: z.object(processVars),
  api: z.object(apiVars),
  auth: z.object(authVars),
  temporal: z.object(temporalVars),
  database: z.object(databaseVars),
  payloads: z.object(payloadVars),
  codec: z.object(codecVars),
  worker: z.object(workerVars),
  versioning: z.object(versioningVars),
  events: z.object(eventsVars),
  natsAuth: z.object(natsAuthVars),
  tracing: z.object(tracingVars),
  graph: z.object(graphVars),
  faults: z.object(faultVars),
};

/** A section of the environment (and of the README's configuration table). */
export type SectionName = keyof typeof SECTION_SCHEMAS;

/** The whole environment: every section's variables in one object. */
export const envSchema = z.object({
  ...processVars,
  ...apiVars,
  ...authVars,
  ...temporalVars,
  ...databaseVars,
  ...payloadVars,
  ...codecVars,
  ...workerVars,
  ...versioningVars,
  ...eventsVars,
  ...natsAuthVars,
  ...tracingVars,
  ...graphVars,
  ...faultVars,
});

/** The environment after parsing (defaults applied, lists split, keys parsed). */
export type ParsedEnv = z.infer<typeof envSchema>;
