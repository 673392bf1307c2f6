/** Worker process for the floor workflow: `floor-worker.ts <bundle path> <temporal address>`. */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { FLOOR_QUEUE } from './floor-workflow.js';

async function main(): Promise<void> {
  const [bundlePath, address] = process.argv.slice(2);
  if (!bundlePath || !address) throw new Error('usage: floor-worker.ts <bundle> <address>');
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: FLOOR_QUEUE,
    // The same converter as the saga's workers (PAYLOAD_KEYS from the bench), so the floor pays the codec too.
    dataConverter: loadPayloadProtection(loadConfig()).dataConverter,
    workflowBundle: { codePath: bundlePath },
    activities: { noop: async () => undefined },
  });
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
