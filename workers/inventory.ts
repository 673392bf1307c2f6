/** The inventory service's worker: polls the `inventory` queue. */
import { createInventoryActivities } from '../activities/inventory.js';
import { INVENTORY_QUEUE } from '../contracts/inventory.js';
import type { ServiceWorkerDefinition } from './service-worker.js';

export const inventoryWorker: ServiceWorkerDefinition = {
  service: 'inventory',
  taskQueue: INVENTORY_QUEUE,
  hostsWorkflows: false,
  createActivities: (deps) => createInventoryActivities(deps),
};
