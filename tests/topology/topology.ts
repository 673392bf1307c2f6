/**
 * The production topology as plain processes: the API, one worker each for orders, inventory and shipping, and
 * several for payments, all in production mode (API keys on, worker versioning on, pre-bundled workflows).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../core/config.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';
import { freePort } from '../../harness/free-port.js';
import { ManagedProcess, type ProcessSpec, roleSpec, startProcess } from '../../harness/processes.js';

const run = promisify(execFile);

/** Keys the topology's API accepts (production mode refuses to start without keys, or with keys under 32 characters). */
export const API_KEY = 'topology-client-key-0123456789abcdef';
export const ADMIN_KEY = 'topology-admin-key-0123456789abcdef';
/** `API_KEYS` / `ADMIN_API_KEYS` as `clientId:key` pairs. */
export const API_KEYS = `topology-app:${API_KEY}`;
export const ADMIN_API_KEYS = `topology-admin:${ADMIN_KEY}`;
/** The payload keys of every process (production refuses to start without them); the test's client reads with them. */
export const PAYLOAD_KEYS = formatPayloadKeys([generatePayloadKey('topology-1')]);

/** A worker process of the topology and the ports it serves its metrics on. */
export class WorkerProcess extends ManagedProcess {
  constructor(
    spec: ProcessSpec,
    readonly service: string,
    readonly metricsUrl: string,
    readonly sdkMetricsUrl: string,
  ) {
    super(spec);
  }
}

/** Every process of a running topology. */
export interface Topology {
  buildId: string;
  apiUrl: string;
  api: ManagedProcess;
  workers: WorkerProcess[];
  stop(): Promise<void>;
}

/** Options: where Temporal and Postgres are, how many payments workers, extra env per service. */
export interface TopologyOptions {
  temporalAddress: string;
  databaseUrl: string;
  paymentsWorkers: number;
  serviceEnv?: Record<string, Record<string, string>>;
}

/** Bundles the workflows with the image's build step (`workers/workflow-bundle.ts`); returns the bundle path. */
export async function buildWorkflowBundle(): Promise<string> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'topology-bundle-')), 'workflows.js');
  await run(process.execPath, ['--import', 'tsx', 'workers/workflow-bundle.ts', '--out', out], {
    cwd: PROJECT_ROOT,
  });
  return out;
}

/** Runs a one-shot role (migrate, seed, promote) to completion; throws with its output on a non-zero exit. */
export async function runOnce(role: string, args: string[], env: Record<string, string>): Promise<string[]> {
  const proc = startProcess(roleSpec(role, role, args, env));
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${role} exited with ${code}:\n${proc.lines.join('\n')}`);
  return [...proc.lines];
}

/** The environment every process shares, as a container's env would carry it. */
export function productionEnv(
  options: TopologyOptions,
  buildId: string,
  bundle: string,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: options.temporalAddress,
    DATABASE_URL: options.databaseUrl,
    DATABASE_POOL_SIZE: '4',
    API_KEYS,
    ADMIN_API_KEYS,
    PAYLOAD_KEYS,
    API_CURSOR_SECRET: 'topology-cursor-secret-0123456789',
    WORKER_BUILD_ID: buildId,
    WORKFLOW_BUNDLE_PATH: bundle,
    SHUTDOWN_GRACE_SECONDS: '15',
  };
}

/** Starts the workers, promotes their build (versioning is on in production), then starts the API. */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const buildId = `topology-${Date.now().toString(36)}`;
  const env = productionEnv(options, buildId, await buildWorkflowBundle());
  const services = ['orders', 'inventory', 'shipping', ...Array(options.paymentsWorkers).fill('payments')];
  const workers: WorkerProcess[] = [];
  let paymentsIndex = 0;
  const stopAll = async () => {
    await Promise.all([...workers, ...(api ? [api] : [])].map((proc) => proc.stop(30_000)));
  };
  let api: ManagedProcess | undefined;
  try {
    for (const service of services) {
      const [httpPort, sdkPort] = [await freePort(), await freePort()];
      const name = service === 'payments' ? `payments-${++paymentsIndex}` : service;
      const spec = roleSpec(name, 'worker', ['--service', service], {
        ...env,
        ...options.serviceEnv?.[service],
        WORKER_HTTP_PORT: String(httpPort),
        TEMPORAL_METRICS_PORT: String(sdkPort),
      });
      const metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
      workers.push(
        new WorkerProcess(spec, service, metricsUrl, `http://127.0.0.1:${sdkPort}/metrics`).start(),
      );
    }
    await Promise.all(
      workers.map((w) => w.waitForLine((line) => line.includes('"workers polling"'), 90_000)),
    );
    // With versioning on, a new build gets no task until it is current: the deploy pipeline's promote step.
    await runOnce('promote', ['--build-id', buildId], env);
    const port = await freePort();
    api = startProcess(roleSpec('api', 'api', [], { ...env, HOST: '127.0.0.1', PORT: String(port) }));
    const apiUrl = `http://127.0.0.1:${port}`;
    await api.waitReady(`${apiUrl}/readyz`, 60_000);
    const started = api;
    return { buildId, apiUrl, api: started, workers, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
