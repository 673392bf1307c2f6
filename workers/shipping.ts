/** The shipping service's worker: polls the `shipping` queue. */
import { createShippingActivities } from '../activities/shipping.js';
import { SHIPPING_QUEUE } from '../contracts/shipping.js';
import type { ServiceWorkerDefinition } from './service-worker.js';

export const shippingWorker: ServiceWorkerDefinition = {
  service: 'shipping',
  taskQueue: SHIPPING_QUEUE,
  hostsWorkflows: false,
  createActivities: (deps) => createShippingActivities(deps),
};
