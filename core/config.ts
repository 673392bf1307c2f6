/** Typed configuration, read from the environment once and validated with zod. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  type ClientKey,
  type ConfiguredKey,
  keyInBoth,
  MIN_PRODUCTION_KEY_LENGTH,
  parseClientKeys,
} from './api-keys.js';
import { defaultBuildId } from './build-id.js';
import type { PayloadKey } from './payload-codec.js';
import { parsePayloadKeys } from './payload-keys.js';

/** Root of the repository (this file lives in `core/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );

const probability = z.coerce.number().min(0).max(1);

/** A setting where an empty value (`VAR=`) means unset, as a shell or compose file often writes it. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const optionalText = unsetIfEmpty(z.string().min(1).optional());

const payloadKeys = unsetIfEmpty(
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return [];
      try {
        return parsePayloadKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
);

/** `clientId:key` pairs (core/api-keys.ts); unset or empty means none. */
const clientKeys = z
  .string()
  .optional()
  .transform((value, ctx): ConfiguredKey[] => {
    try {
      return parseClientKeys(value ?? '');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Set to use an existing Temporal server; unset in dev mode starts a local dev server. */
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** Postgres URL; unset means the embedded PGlite under `PGLITE_DIR`. */
  DATABASE_URL: z.string().url().optional(),
  PGLITE_DIR: z.string().default(path.join(PROJECT_ROOT, '.data', 'pglite')),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** TLS to Postgres: `require` encrypts, `verify-full` also checks the certificate and host name. */
  DATABASE_SSL: unsetIfEmpty(z.enum(['disable', 'require', 'verify-full']).optional()),
  /** PEM file of the CA that signed the Postgres server certificate (implies `verify-full`). */
  DATABASE_SSL_CA: optionalText,
  /** TLS to Temporal with the system's CAs; implied by any of the TLS files or an API key. */
  TEMPORAL_TLS: unsetIfEmpty(z.enum(['true', 'false']).optional()),
  /** PEM file of the CA of the Temporal frontend (self-hosted clusters with a private CA). */
  TEMPORAL_TLS_CA: optionalText,
  /** PEM client certificate and key files for mTLS. */
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_KEY: optionalText,
  /** Overrides the TLS server name (SNI and host name check), e.g. behind a proxy. */
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  /** Temporal Cloud API key (sent as a bearer token; turns TLS on). */
  TEMPORAL_API_KEY: optionalText,
  /** Payload encryption keys, `id:base64,id:base64` (32 bytes each); all decrypt, the last one encrypts. */
  PAYLOAD_KEYS: payloadKeys,
  /** Id of the key that encrypts, when it is not the last one (add a key everywhere first, then switch). */
  PAYLOAD_ENCRYPTION_KEY_ID: optionalText,
  /** `false` turns payload encryption off (refused in production). */
  PAYLOAD_ENCRYPTION: z.enum(['true', 'false']).default('true'),
  /** Where development mode keeps its generated key when PAYLOAD_KEYS is unset. */
  PAYLOAD_KEY_FILE: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, '.data', 'payload-keys')),
  /** Operator keys of the codec server (`/codec/decode`, `/codec/encode`). */
  CODEC_API_KEYS: csv,
  /** Browser origins (the Temporal UI) allowed to call the codec server; default: the local dev server's UI. */
  CODEC_CORS_ORIGIN: csv,
  /** Client keys, `clientId:key,clientId:key`; a clientId may have several keys (rotation). */
  API_KEYS: clientKeys,
  /** Admin keys in the same format: they also change the catalog and see every client's orders. */
  ADMIN_API_KEYS: clientKeys,
  /** Probability (0..1) that an activity attempt fails with an injected transient error. */
  FAULT_RATE: probability.default(0),
  /** Probability (0..1) that an attempt fails AFTER its work is done (a lost completion): retries must be no-ops. */
  FAULT_AFTER_RATE: probability.default(0),
  /** Extra latency in ms added to every activity attempt. */
  FAULT_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  /** Seconds a worker waits for in-flight tasks on shutdown. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(20),
  /** Build id workers announce; default: the git commit, else the package version. */
  WORKER_BUILD_ID: z.string().min(1).max(255).optional(),
  /** Worker deployment names are `<prefix>-<service>`. */
  WORKER_DEPLOYMENT_PREFIX: z.string().min(1).default('order-saga'),
  /** Deployment-based versioning (tasks routed by build id); default on in production only. */
  WORKER_VERSIONING: z.enum(['true', 'false']).optional(),
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
});

/** TLS files and server name for the Temporal connection (paths; read when connecting). */
export interface TemporalTlsSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
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

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  temporal: TemporalSettings;
  database: {
    url: string | undefined;
    pgliteDir: string;
    poolSize: number;
    ssl: DatabaseSslSettings | undefined;
  };
  payloads: PayloadSettings;
  codec: CodecSettings;
  /** Configured keys; `enabled` is false only when neither variable has a key (dev mode). */
  auth: { apiKeys: ClientKey[]; adminKeys: ClientKey[]; enabled: boolean };
  faults: { rate: number; afterRate: number; latencyMs: number };
  shutdownGraceSeconds: number;
  versioning: { enabled: boolean; deploymentPrefix: string; buildId: string };
  /** Slot and cache limits for every worker of the process; undefined keeps the SDK's default. */
  workerTuning: {
    maxConcurrentActivities?: number;
    maxConcurrentLocalActivities?: number;
    maxConcurrentWorkflowTasks?: number;
    maxCachedWorkflows?: number;
    maxTaskPolls?: number;
  };
}

/** Parses configuration from an environment; throws a readable error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const conflicts = [...settingConflicts(e), ...productionRefusals(e)];
  if (conflicts.length > 0)
    throw new Error(`Invalid configuration:\n${conflicts.map((c) => `  ${c}`).join('\n')}`);
  const authEnabled = e.API_KEYS.length > 0 || e.ADMIN_API_KEYS.length > 0;
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
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
      access:
        e.CODEC_API_KEYS.length > 0 ? 'keys' : e.NODE_ENV !== 'production' && !authEnabled ? 'open' : 'off',
      apiKeys: e.CODEC_API_KEYS,
      corsOrigins:
        e.CODEC_CORS_ORIGIN.length > 0
          ? e.CODEC_CORS_ORIGIN
          : e.NODE_ENV === 'production'
            ? []
            : [`http://127.0.0.1:${e.TEMPORAL_UI_PORT}`, `http://localhost:${e.TEMPORAL_UI_PORT}`],
    },
    auth: {
      apiKeys: e.API_KEYS.map(clientKey),
      adminKeys: e.ADMIN_API_KEYS.map(clientKey),
      enabled: authEnabled,
    },
    faults: { rate: e.FAULT_RATE, afterRate: e.FAULT_AFTER_RATE, latencyMs: e.FAULT_LATENCY_MS },
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    versioning: {
      enabled: e.WORKER_VERSIONING ? e.WORKER_VERSIONING === 'true' : e.NODE_ENV === 'production',
      deploymentPrefix: e.WORKER_DEPLOYMENT_PREFIX,
      buildId: e.WORKER_BUILD_ID ?? defaultBuildId(),
    },
    workerTuning: {
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxTaskPolls: e.WORKER_MAX_TASK_POLLS,
    },
  };
}

type ParsedEnv = z.infer<typeof envSchema>;

const clientKey = ({ clientId, key }: ConfiguredKey): ClientKey => ({ clientId, key });

/** What production mode refuses although it parses: short API keys, and any fault injection. */
function productionRefusals(e: ParsedEnv): string[] {
  if (e.NODE_ENV !== 'production') return [];
  const refusals: string[] = [];
  for (const variable of ['API_KEYS', 'ADMIN_API_KEYS'] as const) {
    for (const { position, key } of e[variable]) {
      if (key.length < MIN_PRODUCTION_KEY_LENGTH) {
        refusals.push(
          `${variable}: entry ${position}: the key must be at least ${MIN_PRODUCTION_KEY_LENGTH} characters when ` +
            'NODE_ENV=production (e.g. `openssl rand -hex 32`)',
        );
      }
    }
  }
  const faults = {
    FAULT_RATE: e.FAULT_RATE,
    FAULT_AFTER_RATE: e.FAULT_AFTER_RATE,
    FAULT_LATENCY_MS: e.FAULT_LATENCY_MS,
  };
  for (const [variable, value] of Object.entries(faults)) {
    if (value !== 0) {
      refusals.push(
        `${variable}: fault injection is refused when NODE_ENV=production (unset it or set it to 0)`,
      );
    }
  }
  return refusals;
}

/** Settings that are valid alone but contradict each other. */
function settingConflicts(e: ParsedEnv): string[] {
  const conflicts: string[] = [];
  const sharedKey = keyInBoth(e.API_KEYS, e.ADMIN_API_KEYS);
  if (sharedKey) conflicts.push(sharedKey);
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    conflicts.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: mTLS needs both the certificate and its key');
  }
  const tlsInputs = [e.TEMPORAL_TLS_CA, e.TEMPORAL_TLS_CERT, e.TEMPORAL_TLS_SERVER_NAME, e.TEMPORAL_API_KEY];
  if (e.TEMPORAL_TLS === 'false' && tlsInputs.some(Boolean)) {
    conflicts.push('TEMPORAL_TLS=false contradicts the TLS files / TEMPORAL_API_KEY that are set');
  }
  if (e.DATABASE_SSL_CA && e.DATABASE_SSL && e.DATABASE_SSL !== 'verify-full') {
    conflicts.push(`DATABASE_SSL_CA needs DATABASE_SSL=verify-full (got ${e.DATABASE_SSL})`);
  }
  const keyIds = e.PAYLOAD_KEYS.map((key) => key.id);
  if (e.PAYLOAD_ENCRYPTION_KEY_ID && keyIds.length > 0 && !keyIds.includes(e.PAYLOAD_ENCRYPTION_KEY_ID)) {
    conflicts.push(
      `PAYLOAD_ENCRYPTION_KEY_ID: "${e.PAYLOAD_ENCRYPTION_KEY_ID}" is not a key id of PAYLOAD_KEYS`,
    );
  }
  const cache = e.WORKER_MAX_CACHED_WORKFLOWS;
  if (cache && e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS && e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > cache) {
    conflicts.push(
      'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must not exceed WORKER_MAX_CACHED_WORKFLOWS (each task in flight holds a cached workflow)',
    );
  }
  return conflicts;
}

/** TLS is on when asked for or implied by a CA, a client certificate, a server name or an API key. */
function temporalTls(e: ParsedEnv): TemporalTlsSettings | null {
  const implied = Boolean(
    e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_SERVER_NAME || e.TEMPORAL_API_KEY,
  );
  if (e.TEMPORAL_TLS !== 'true' && !implied) return null;
  return {
    ...(e.TEMPORAL_TLS_CA ? { caFile: e.TEMPORAL_TLS_CA } : {}),
    ...(e.TEMPORAL_TLS_CERT ? { certFile: e.TEMPORAL_TLS_CERT } : {}),
    ...(e.TEMPORAL_TLS_KEY ? { keyFile: e.TEMPORAL_TLS_KEY } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/** The API refuses to serve without keys in production (workers and jobs need none, so only the API checks). */
export function assertApiAuthConfigured(config: AppConfig): void {
  if (config.env === 'production' && !config.auth.enabled) {
    throw new Error('Invalid configuration: API_KEYS or ADMIN_API_KEYS must be set when NODE_ENV=production');
  }
}
