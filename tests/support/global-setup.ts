/**
 * Once per test run: find or install the Temporal and NATS binaries, bundle the workflow code (~2 s) for every
 * worker, and start one NATS server with JetStream (temporary store, free port) that every test file shares.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTemporalTools, requireNatsServer } from '../../harness/dev-tools.mjs';
import { startNatsServer } from '../../harness/nats-server.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
    temporalCli: string;
    temporalTestServer: string;
    /** `nats://127.0.0.1:<port>` of the run's NATS server (JetStream on); streams are the tests' to create. */
    natsUrl: string;
    /** The `nats-server` binary, for tests that start a server of their own (restarts, outages). */
    natsServerBinary: string;
  }
}

export default async function setup(project: TestProject) {
  const tools = ensureTemporalTools();
  if (!tools.cli || !tools.testServer) {
    throw new Error(
      'Temporal CLI / test server unavailable: install Python 3 (pip) or set TEMPORAL_CLI_PATH',
    );
  }
  const natsServerBinary = requireNatsServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'order-saga-bundle-'));
  const bundlePath = path.join(dir, 'workflows.js');
  await writeWorkflowBundle(bundlePath, { quiet: true });
  const natsStore = mkdtempSync(path.join(os.tmpdir(), 'order-saga-nats-'));
  const nats = await startNatsServer({
    binary: natsServerBinary,
    storeDir: natsStore,
    name: 'order-saga-tests',
  });
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalCli', tools.cli);
  project.provide('temporalTestServer', tools.testServer);
  project.provide('natsUrl', nats.url);
  project.provide('natsServerBinary', natsServerBinary);
  return async () => {
    await nats.stop();
    rmSync(natsStore, { recursive: true, force: true });
  };
}
