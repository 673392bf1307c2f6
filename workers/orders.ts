/** The orders service's worker: polls the `orders` queue, hosting the saga workflows and the orders activities. */
import { createOrdersActivities } from '../activities/orders.js';
import { ORDERS_QUEUE } from '../contracts/orders.js';
import type { ServiceWorkerDefinition } from './service-worker.js';

export const ordersWorker: ServiceWorkerDefinition = {
  service: 'orders',
  taskQueue: ORDERS_QUEUE,
  hostsWorkflows: true,
  createActivities: (deps) => createOrdersActivities(deps),
};
