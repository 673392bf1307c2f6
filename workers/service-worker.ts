/** What a service worker is (its queue and activities) and how one is created on a Temporal connection. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import {
  type ActivityInterceptorsFactory,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { withDataErrorsNonRetryable } from '../activities/data-errors.js';
import { withFaults } from '../activities/faults.js';
import type { ServiceName } from '../contracts/services.js';
import type { AppConfig } from '../core/config.js';
import type { Tracing } from '../core/tracing.js';
import type { Database } from '../db/client.js';
import {
  tracingActivityInterceptors,
  WORKFLOW_TRACING_MODULE,
  workflowTracingSinks,
} from './worker-tracing.js';

/** Dependencies every activity factory receives. */
export interface ActivityDeps {
  db: Database;
}

/** One service's worker: the queue it polls, the activities it runs and whether it hosts the saga workflows. */
export interface ServiceWorkerDefinition {
  /** The service, or `colocated` for the worker of colocated orders (every service's steps, one deployment). */
  service: ServiceName | 'colocated';
  taskQueue: string;
  hostsWorkflows: boolean;
  createActivities(deps: ActivityDeps): object;
}

/** Entry module of the workflow code, bundled by the worker when no pre-built bundle is given. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateServiceWorkerOptions {
  connection: NativeConnection;
  config: AppConfig;
  deps: ActivityDeps;
  /** The process's data converter (payload encryption), the same one its clients use. */
  dataConverter: DataConverter;
  /** Path of a bundle made by `bundleWorkflowCode`; saves ~2 s per worker start. */
  workflowBundlePath?: string;
  /** The process's tracing: activity spans and the workflows' span sink (a no-op sink when off or omitted). */
  tracing?: Tracing;
  /** Activity interceptors run inside the tracing ones (the worker host's metrics). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Extra worker options (tests use this to tune slots or identity). */
  overrides?: Partial<WorkerOptions>;
}

/** Creates the Temporal worker of one service; call `run()` on it, `shutdown()` to drain. */
export function createServiceWorker(
  definition: ServiceWorkerDefinition,
  options: CreateServiceWorkerOptions,
) {
  const { connection, config, deps, dataConverter, workflowBundlePath, tracing, overrides } = options;
  const activities = withFaults(withDataErrorsNonRetryable(definition.createActivities(deps)), {
    rate: config.faults.rate,
    afterRate: config.faults.afterRate,
    latencyMs: config.faults.latencyMs,
  });
  const workflowSource: Partial<WorkerOptions> = !definition.hostsWorkflows
    ? {}
    : workflowBundlePath
      ? { workflowBundle: { codePath: path.resolve(workflowBundlePath) } }
      : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: [WORKFLOW_TRACING_MODULE] } };
  const traced = tracing?.enabled ? tracingActivityInterceptors() : [];
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: definition.taskQueue,
    dataConverter,
    activities,
    ...workflowSource,
    interceptors: {
      ...workflowSource.interceptors,
      activity: [...traced, ...(options.activityInterceptors ?? [])],
    },
    ...(definition.hostsWorkflows ? { sinks: workflowTracingSinks(tracing) } : {}),
    identity: `${definition.service}@${process.pid}/${config.versioning.buildId}`,
    workerDeploymentOptions: deploymentOptions(definition, config),
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
    ...workerTuningOptions(config.worker.tuning),
    ...overrides,
  });
}

/** Worker options for the configured slot, cache and poller limits; only what is set (the rest: SDK defaults). */
export function workerTuningOptions(tuning: AppConfig['worker']['tuning']): Partial<WorkerOptions> {
  const options: Partial<WorkerOptions> = {
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentLocalActivities,
    // A cache smaller than the SDK's 40 workflow-task slots caps the slots too (a task in flight holds a cached run).
    maxConcurrentWorkflowTaskExecutions:
      tuning.maxConcurrentWorkflowTasks ??
      (tuning.maxCachedWorkflows ? Math.min(40, tuning.maxCachedWorkflows) : undefined),
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    ...(tuning.maxTaskPolls
      ? {
          workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.maxTaskPolls },
          activityTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.maxTaskPolls },
        }
      : {}),
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** Worker deployment name of a service: each service rolls out its builds on its own. */
export function deploymentName(service: string, config: AppConfig): string {
  return `${config.versioning.deploymentPrefix}-${service}`;
}

/**
 * Every worker announces its deployment and build id. With versioning on, the saga is PINNED: a run finishes on
 * the build that started it (docs/VERSIONING.md), so in-flight orders never replay on new code.
 */
function deploymentOptions(
  definition: ServiceWorkerDefinition,
  config: AppConfig,
): WorkerOptions['workerDeploymentOptions'] {
  const version = {
    deploymentName: deploymentName(definition.service, config),
    buildId: config.versioning.buildId,
  };
  return config.versioning.enabled
    ? { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' }
    : { version, useWorkerVersioning: false };
}
