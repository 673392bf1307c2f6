/** Temporal connections for clients and workers (address, TLS / mTLS, API key), and the SDK logger wired to pino. */
import { readFileSync } from 'node:fs';
import { Client, type ClientInterceptors, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter, LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import { type ServiceName, TASK_QUEUES } from '../contracts/services.js';
import { type AppConfig, ConfigurationError, type PemSource, type TemporalSettings } from './config.js';
import type { Logger } from './logger.js';
import { currentTracing } from './trace-context.js';

/** Adapts pino to the Temporal SDK's logger so SDK, workflow and activity logs share one JSON stream. */
export function temporalLoggerFrom(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const pinoLevel = level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : level.toLowerCase();
    const target = pinoLevel as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    logger[target]({ ...normaliseMeta(meta) }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/** The service whose task queue a line comes from, for SDK lines that carry only the queue. */
const SERVICE_OF_QUEUE = new Map<unknown, ServiceName>(
  Object.entries(TASK_QUEUES).map(([service, queue]) => [queue, service as ServiceName]),
);

/**
 * Workflow and activity log metadata carries the ids operators search by (`service`, `orderId`, `workflowId`);
 * an error passed as the metadata itself goes under `err`, and the activity task token (a capability) is dropped.
 */
export function normaliseMeta(meta: LogMetadata | Error | undefined): Record<string, unknown> {
  if (!meta) return {};
  if (meta instanceof Error) return { err: meta };
  const { workflowId, taskToken: _capability, ...rest } = meta as Record<string, unknown>;
  const orderId =
    typeof workflowId === 'string' && workflowId.startsWith('order-')
      ? workflowId.slice('order-'.length)
      : undefined;
  const service = rest.service ?? SERVICE_OF_QUEUE.get(rest.taskQueue);
  return {
    ...rest,
    ...(service ? { service } : {}),
    ...(workflowId ? { workflowId } : {}),
    ...(orderId && !rest.orderId ? { orderId } : {}),
  };
}

/** What both the client `Connection` and the worker `NativeConnection` take (workers keep the SDK out of the API). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** PEM bytes from a file (read now) or from the variable itself; an unreadable file is a configuration error. */
function readPem(source: PemSource): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigurationError([
      { variable: source.variable, message: `cannot read ${source.path}: ${reason}` },
    ]);
  }
}

/** The one place connection options are built from configuration: address, TLS material, API key. */
export function temporalConnectionOptions(
  temporal: Pick<TemporalSettings, 'address' | 'tls' | 'apiKey'>,
): TemporalConnectionOptions {
  const { tls } = temporal;
  return {
    address: temporal.address,
    ...(tls
      ? {
          tls: {
            ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
            ...(tls.serverCaCert ? { serverRootCACertificate: readPem(tls.serverCaCert) } : {}),
            ...(tls.clientCert && tls.clientKey
              ? { clientCertPair: { crt: readPem(tls.clientCert), key: readPem(tls.clientKey) } }
              : {}),
          },
        }
      : {}),
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
  };
}

/** Opens a client gRPC connection to Temporal; rejects if the server cannot be reached. */
export function connectTemporal(config: AppConfig): Promise<Connection> {
  return Connection.connect(temporalConnectionOptions(config.temporal));
}

/** A workflow client on an existing connection, speaking the process's data converter (core/data-converter.ts). */
export function createTemporalClient(
  connection: Connection,
  config: AppConfig,
  dataConverter: DataConverter,
): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
    interceptors: tracingClientInterceptors(),
  });
}

/**
 * With tracing on, a `StartWorkflow:<type>` (signal, query, update…) span per call, its context sent in the
 * Temporal headers, so the workflow run is a child of the caller's span.
 */
export function tracingClientInterceptors(): ClientInterceptors {
  return currentTracing()?.enabled ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : {};
}
