/** Runs the workers of several services in one process and drains them together on shutdown. */
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, type State } from '@temporalio/worker';
import { Registry } from 'prom-client';
import type { ServiceName } from '../contracts/services.js';
import { type AppConfig, formatAddress, type ListenAddress } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { temporalConnectionOptions, temporalLoggerFrom } from '../core/temporal.js';
import { currentTracing } from '../core/trace-context.js';
import type { Database } from '../db/client.js';
import { activityMetricsInterceptor } from './activity-metrics-interceptor.js';
import { sagaMetricsIn } from './metrics.js';
import { ACTIVITY_SERVICES, COLOCATED_WORKER, hostsEveryService, SERVICE_WORKERS } from './registry.js';
import { createServiceWorker } from './service-worker.js';

let runtimeInstalled = false;

/** What the process-wide SDK runtime is installed with. */
export interface WorkerRuntimeOptions {
  /** Where the SDK serves its own worker metrics in Prometheus format; omit or null for none. */
  temporalMetrics?: ListenAddress | null;
}

/**
 * Installs the SDK runtime once per process, logging through pino and, if asked, exporting the SDK's worker
 * metrics (slots, poll and schedule-to-start latency, sticky cache) with Prometheus names; signals are ours.
 */
export function installWorkerRuntime(logger: Logger, options: WorkerRuntimeOptions = {}): void {
  if (runtimeInstalled) {
    if (options.temporalMetrics)
      logger.warn('SDK runtime already installed: its metrics exporter is unchanged');
    return;
  }
  const metrics = options.temporalMetrics;
  try {
    Runtime.install({
      logger: temporalLoggerFrom(logger),
      shutdownSignals: [],
      ...(metrics ? { telemetryOptions: { metrics: { prometheus: prometheusExporter(metrics) } } } : {}),
    });
  } catch (err) {
    if (!metrics) throw err;
    const reason = (err as Error).message;
    throw new Error(
      `${reason} (Temporal SDK metrics on ${formatAddress(metrics)}: set TEMPORAL_METRICS_PORT to a free port, or 0 for none)`,
    );
  }
  runtimeInstalled = true;
  if (metrics) logger.info({ url: `http://${formatAddress(metrics)}/metrics` }, 'temporal sdk metrics');
}

/** The SDK's Prometheus exporter with Prometheus naming: `_total` counters, `_seconds` durations. */
function prometheusExporter(address: ListenAddress) {
  return {
    bindAddress: formatAddress(address),
    countersTotalSuffix: true,
    unitSuffix: true,
    useSecondsForDurations: true,
  };
}

/** The workers of one process, run and drained together. */
export interface WorkerHost {
  /** Resolves when every worker has stopped; rejects if one fails. */
  done: Promise<void>;
  /** Stops polling, lets in-flight tasks finish (up to the grace time), then closes the connection. */
  shutdown(): Promise<void>;
  /**
   * State of each service's worker (`RUNNING` once polling), and of the colocated one in a process hosting every
   * service; readiness needs all of them running.
   */
  states(): Record<string, State | undefined>;
}

/** Which services to run, on what, and where their metrics go. */
export interface StartWorkersOptions {
  services: ServiceName[];
  config: AppConfig;
  logger: Logger;
  db: Database;
  /** The process's data converter (core/data-converter.ts): workers seal what they send like every client. */
  dataConverter: DataConverter;
  workflowBundlePath?: string;
  /** Registry the saga metrics go to (the process's /metrics); a private one when omitted. */
  registry?: Registry;
  /** Where the SDK serves its own metrics; only the first host of a process installs the runtime. */
  temporalMetrics?: ListenAddress | null;
}

/** Connects to Temporal and starts one worker per requested service, each measured by the activity interceptor. */
export async function startWorkers(options: StartWorkersOptions): Promise<WorkerHost> {
  const { services, config, logger, db, dataConverter, workflowBundlePath } = options;
  installWorkerRuntime(logger, { temporalMetrics: options.temporalMetrics ?? null });
  const metrics = sagaMetricsIn(options.registry ?? new Registry());
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  // A process hosting every service also takes colocated orders: the saga with all the steps in this process.
  const { placements } = config.worker;
  const definitions = [
    ...(placements.includes('distributed') ? services.map((service) => SERVICE_WORKERS[service]) : []),
    ...(placements.includes('colocated') && hostsEveryService(services) ? [COLOCATED_WORKER] : []),
  ];
  if (definitions.length === 0) {
    throw new Error(
      `nothing to run: WORKER_PLACEMENTS=colocated needs every service in WORKER_SERVICES (got ${services.join(',')})`,
    );
  }
  const created = await Promise.allSettled(
    definitions.map((definition) =>
      createServiceWorker(definition, {
        connection,
        config,
        deps: { db },
        dataConverter,
        ...(workflowBundlePath ? { workflowBundlePath } : {}),
        tracing: currentTracing(),
        activityInterceptors: [activityMetricsInterceptor(metricsLabel(definition.service), metrics)],
      }),
    ),
  );
  const workers = created.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = created.find((result) => result.status === 'rejected');
  if (failure) {
    // Do not leave half a host running: release what was created, then report why.
    await Promise.allSettled(workers.map((worker) => worker.runUntil(Promise.resolve())));
    await connection.close();
    throw failure.reason;
  }
  const runs = workers.map((worker) => worker.run());
  logger.info({ services, taskQueues: definitions.map((d) => d.taskQueue) }, 'workers polling');
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      for (const worker of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
      await Promise.allSettled(runs);
      await connection.close();
    })();
    return stopping;
  };
  // One worker failing stops the others, so the process exits and its supervisor restarts it whole.
  const done = Promise.all(runs).then(
    () => undefined,
    async (err) => {
      await shutdown();
      throw err;
    },
  );
  const states = () =>
    Object.fromEntries(definitions.map((definition, i) => [definition.service, workers[i]?.getState()]));
  return { done, shutdown, states };
}

/** The `service` label of a worker's activity metrics: its service, or each activity's own for the colocated one. */
function metricsLabel(service: ServiceName | 'colocated'): ServiceName | ((activity: string) => ServiceName) {
  if (service !== 'colocated') return service;
  return (activity) => ACTIVITY_SERVICES[activity as keyof typeof ACTIVITY_SERVICES] ?? 'orders';
}
