/**
 * Worker process of a bench baseline: `baseline-worker.ts floor|plain <bundle path> <temporal address>`; the plain
 * saga's activities are the services' own, on DATABASE_URL.
 */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { createPaymentsActivities } from '../../activities/payments.js';
import { createShippingActivities } from '../../activities/shipping.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { openDatabase } from '../../db/client.js';
import { FLOOR_QUEUE, PLAIN_QUEUE } from './baseline-workflows.js';

async function main(): Promise<void> {
  const [kind, bundlePath, address] = process.argv.slice(2);
  if ((kind !== 'floor' && kind !== 'plain') || !bundlePath || !address) {
    throw new Error('usage: baseline-worker.ts floor|plain <bundle> <address>');
  }
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const config = loadConfig();
  const database = kind === 'plain' ? await openDatabase(config.database) : undefined;
  const connection = await NativeConnection.connect({ address });
  const db = database?.db;
  const worker = await Worker.create({
    connection,
    taskQueue: kind === 'floor' ? FLOOR_QUEUE : PLAIN_QUEUE,
    // The same converter as the saga's workers (PAYLOAD_KEYS from the bench), so the baselines pay the codec too.
    dataConverter: loadPayloadProtection(config).dataConverter,
    workflowBundle: { codePath: bundlePath },
    activities: db
      ? {
          ...createOrdersActivities({ db }),
          ...createInventoryActivities({ db }),
          ...createPaymentsActivities({ db }),
          ...createShippingActivities({ db }),
        }
      : { noop: async () => undefined },
  });
  await worker.run();
  await connection.close();
  await database?.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
