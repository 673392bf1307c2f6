/** Typed configuration, read from the environment once and validated with zod. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defaultBuildId } from './build-id.js';

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
  API_KEYS: csv,
  ADMIN_API_KEYS: csv,
  /** Probability (0..1) that an activity attempt fails with an injected transient error. */
  FAULT_RATE: probability.default(0),
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
});

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  temporal: { address: string; namespace: string; external: boolean; uiPort: number };
  database: { url: string | undefined; pgliteDir: string; poolSize: number };
  auth: { apiKeys: string[]; adminKeys: string[]; enabled: boolean };
  faults: { rate: number; latencyMs: number };
  shutdownGraceSeconds: number;
  versioning: { enabled: boolean; deploymentPrefix: string; buildId: string };
}

/** Parses configuration from an environment; throws a readable error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
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
    },
    database: { url: e.DATABASE_URL, pgliteDir: e.PGLITE_DIR, poolSize: e.DATABASE_POOL_SIZE },
    auth: { apiKeys: e.API_KEYS, adminKeys: e.ADMIN_API_KEYS, enabled: authEnabled },
    faults: { rate: e.FAULT_RATE, latencyMs: e.FAULT_LATENCY_MS },
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    versioning: {
      enabled: e.WORKER_VERSIONING ? e.WORKER_VERSIONING === 'true' : e.NODE_ENV === 'production',
      deploymentPrefix: e.WORKER_DEPLOYMENT_PREFIX,
      buildId: e.WORKER_BUILD_ID ?? defaultBuildId(),
    },
  };
}

/** The API refuses to serve without keys in production (workers and jobs need none, so only the API checks). */
export function assertApiAuthConfigured(config: AppConfig): void {
  if (config.env === 'production' && !config.auth.enabled) {
    throw new Error('Invalid configuration: API_KEYS or ADMIN_API_KEYS must be set when NODE_ENV=production');
  }
}
