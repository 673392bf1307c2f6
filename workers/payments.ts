/** The payments service's worker: polls the `payments` queue. */
import { createPaymentsActivities } from '../activities/payments.js';
import { PAYMENTS_QUEUE } from '../contracts/payments.js';
import type { ServiceWorkerDefinition } from './service-worker.js';

export const paymentsWorker: ServiceWorkerDefinition = {
  service: 'payments',
  taskQueue: PAYMENTS_QUEUE,
  hostsWorkflows: false,
  createActivities: (deps) => createPaymentsActivities(deps),
};
