/** Runs the workers of several services in one process and drains them together on shutdown. */
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { ServiceName } from '../contracts/services.js';
import type { AppConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { temporalLoggerFrom } from '../core/temporal.js';
import type { Database } from '../db/client.js';
import { SERVICE_WORKERS } from './registry.js';
import { createServiceWorker } from './service-worker.js';

let runtimeInstalled = false;

/** Installs the SDK runtime once per process, logging through pino; signals are handled by our entry points. */
export function installWorkerRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: temporalLoggerFrom(logger), shutdownSignals: [] });
  runtimeInstalled = true;
}

export interface WorkerHost {
  /** Resolves when every worker has stopped; rejects if one fails. */
  done: Promise<void>;
  /** Stops polling, lets in-flight tasks finish (up to the grace time), then closes the connection. */
  shutdown(): Promise<void>;
}

export interface StartWorkersOptions {
  services: ServiceName[];
  config: AppConfig;
  logger: Logger;
  db: Database;
  workflowBundlePath?: string;
}

/** Connects to Temporal and starts one worker per requested service. */
export async function startWorkers(options: StartWorkersOptions): Promise<WorkerHost> {
  const { services, config, logger, db, workflowBundlePath } = options;
  installWorkerRuntime(logger);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const created = await Promise.allSettled(
    services.map((service) =>
      createServiceWorker(SERVICE_WORKERS[service], {
        connection,
        config,
        deps: { db },
        ...(workflowBundlePath ? { workflowBundlePath } : {}),
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
  logger.info({ services, taskQueues: services.map((s) => SERVICE_WORKERS[s].taskQueue) }, 'workers polling');
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
  return { done, shutdown };
}
