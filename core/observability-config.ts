/**
 * Where a worker process serves its metrics: its own HTTP server (/metrics, /healthz, /readyz) and the Temporal
 * SDK's Prometheus exporter. Read from the environment with zod; the defaults give each service its own ports, so
 * the four worker processes of the multi-process layout run side by side on one machine (docs/OBSERVABILITY.md).
 */
import { z } from 'zod';
import type { ServiceName } from '../contracts/services.js';

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  /** Interface of the worker's HTTP server (use 0.0.0.0 in a container). */
  WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the worker's HTTP server; 0 picks a free one. Default: per service, see below. */
  WORKER_HTTP_PORT: port.optional(),
  /** Interface of the Temporal SDK's Prometheus exporter. */
  TEMPORAL_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the Temporal SDK's Prometheus exporter; 0 turns it off. Default: per service, see below. */
  TEMPORAL_METRICS_PORT: port.optional(),
});

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

/** A host and port to listen on. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The observability endpoints of one process. */
export interface ObservabilityConfig {
  workerHttp: ListenAddress;
  /** Null when the SDK exporter is turned off. */
  temporalMetrics: ListenAddress | null;
}

/** Reads the observability settings of a process that runs `services`. */
export function loadObservabilityConfig(
  services: readonly ServiceName[],
  env: NodeJS.ProcessEnv = process.env,
): ObservabilityConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const only = services.length === 1 ? services[0] : undefined;
  const sdkPort =
    e.TEMPORAL_METRICS_PORT ?? (only ? TEMPORAL_METRICS_PORTS[only] : SHARED_TEMPORAL_METRICS_PORT);
  return {
    workerHttp: {
      host: e.WORKER_HTTP_HOST,
      port: e.WORKER_HTTP_PORT ?? (only ? WORKER_HTTP_PORTS[only] : SHARED_WORKER_HTTP_PORT),
    },
    temporalMetrics: sdkPort === 0 ? null : { host: e.TEMPORAL_METRICS_HOST, port: sdkPort },
  };
}

/** `host:port` for an address, with IPv6 hosts in brackets. */
export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
