/** Promotes a build to be the current version of each service's worker deployment. */
import type { Client } from '@temporalio/client';
import type { ServiceName } from '../contracts/services.js';
import type { AppConfig } from '../core/config.js';
import { deploymentName } from './service-worker.js';

export interface PromoteOptions {
  client: Client;
  config: AppConfig;
  /** Services, and `colocated` for the deployment of the colocated worker. */
  services: readonly (ServiceName | 'colocated')[];
  buildId: string;
  /** How long to wait for the build's workers to have polled (a version exists once they have). */
  waitMs?: number;
}

/** Sets `buildId` current for every listed service; new workflows and their activities go to it from now on. */
export async function promoteBuild(options: PromoteOptions): Promise<void> {
  const { client, config, services, buildId, waitMs = 30_000 } = options;
  for (const service of services) {
    const name = deploymentName(service, config);
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await client.workflowService.setWorkerDeploymentCurrentVersion({
          namespace: config.temporal.namespace,
          deploymentName: name,
          buildId,
          identity: `promote-build@${process.pid}`,
        });
        break;
      } catch (err) {
        // The version appears only after its workers polled; keep trying until then.
        if (Date.now() > deadline)
          throw new Error(`cannot promote ${name}:${buildId}: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
