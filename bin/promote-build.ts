/**
 * `npm run deploy:promote -- --build-id <id> [--service payments,...] [--colocated]`: makes a build the current version of the
 * services' worker deployments. Run it once the new build's workers are up; old pinned runs finish on the old build.
 */
import { parseArgs } from 'node:util';
import { SERVICE_NAMES } from '../contracts/services.js';
import { loadConfig } from '../core/config.js';
import { connectTemporal, createTemporalClient } from '../core/temporal.js';
import { promoteBuild } from '../workers/deployments.js';
import { parseServiceList } from '../workers/registry.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'build-id': { type: 'string' },
      service: { type: 'string', default: SERVICE_NAMES.join(',') },
      // Also the deployment of the colocated worker (processes hosting every service take colocated orders).
      colocated: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  const buildId = values['build-id'] ?? config.versioning.buildId;
  const services = [
    ...parseServiceList(values.service ?? 'all'),
    ...(values.colocated ? (['colocated'] as const) : []),
  ];
  const connection = await connectTemporal(config);
  try {
    // Promotion sends no payloads, so it needs no payload keys: Temporal's default converter is enough.
    await promoteBuild({ client: createTemporalClient(connection, config, {}), config, services, buildId });
    for (const service of services)
      console.log(`${config.versioning.deploymentPrefix}-${service}: current = ${buildId}`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
