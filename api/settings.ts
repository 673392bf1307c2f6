/** API-only settings, read from the environment once; the shared ones (port, keys, Temporal address) live in core/config. */
import { z } from 'zod';

/** The cursor key used when none is configured: fine locally, refused in production (anyone could forge cursors). */
const BUILT_IN_CURSOR_SECRET = 'order-saga-cursor-v1';

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  /** Upper bound of one Temporal RPC made for a request, so an outage answers 503 quickly instead of hanging. */
  API_TEMPORAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Seconds a client is told (Retry-After) to wait when Temporal or the database is down. */
  API_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3_600).default(5),
  /** Requests under /v1 allowed in progress at once; past it the API sheds load with 503 + Retry-After. */
  API_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(512),
  /** Key of the listing cursor's integrity tag; set it to make cursors unforgeable across replicas. */
  API_CURSOR_SECRET: z.string().min(1).default(BUILT_IN_CURSOR_SECRET),
});

/** Settings only the API process uses. */
export interface ApiSettings {
  temporalTimeoutMs: number;
  retryAfterSeconds: number;
  cursorSecret: string;
  maxInFlight: number;
  /** Whether `/readyz` shows why a dependency failed; off in production (addresses of internal services). */
  exposeErrorDetails: boolean;
}

/** Defaults that work locally (and in tests that build the app directly). */
export const DEFAULT_API_SETTINGS: ApiSettings = loadApiSettings({});

/** Parses the API settings; throws a readable error listing every bad variable. */
export function loadApiSettings(env: NodeJS.ProcessEnv = process.env): ApiSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid API configuration:\n${lines.join('\n')}`);
  }
  const production = parsed.data.NODE_ENV === 'production';
  if (production && parsed.data.API_CURSOR_SECRET === BUILT_IN_CURSOR_SECRET) {
    throw new Error(
      'Invalid API configuration:\n  API_CURSOR_SECRET: must be set to a secret of your own when NODE_ENV=production ' +
        '(e.g. `openssl rand -hex 32`)',
    );
  }
  if (production && parsed.data.API_CURSOR_SECRET.length < 16) {
    throw new Error(
      'Invalid API configuration:\n  API_CURSOR_SECRET: use at least 16 characters in production',
    );
  }
  return {
    temporalTimeoutMs: parsed.data.API_TEMPORAL_TIMEOUT_MS,
    retryAfterSeconds: parsed.data.API_RETRY_AFTER_SECONDS,
    cursorSecret: parsed.data.API_CURSOR_SECRET,
    maxInFlight: parsed.data.API_MAX_IN_FLIGHT,
    exposeErrorDetails: !production,
  };
}
