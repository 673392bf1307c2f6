/** Every service worker by name (its queue, whether it hosts the saga, its activities), and `--service` parsing. */
import { createInventoryActivities } from '../activities/inventory.js';
import { createOrdersActivities } from '../activities/orders.js';
import { createPaymentsActivities } from '../activities/payments.js';
import { createShippingActivities } from '../activities/shipping.js';
import { INVENTORY_QUEUE } from '../contracts/inventory.js';
import { ORDERS_QUEUE } from '../contracts/orders.js';
import { PAYMENTS_QUEUE } from '../contracts/payments.js';
import { SERVICE_NAMES, type ServiceName } from '../contracts/services.js';
import { SHIPPING_QUEUE } from '../contracts/shipping.js';
import type { ServiceWorkerDefinition } from './service-worker.js';

/** Each service's worker polls its own queue; only the orders worker runs the saga (and its local activities). */
export const SERVICE_WORKERS: Record<ServiceName, ServiceWorkerDefinition> = {
  orders: {
    service: 'orders',
    taskQueue: ORDERS_QUEUE,
    hostsWorkflows: true,
    createActivities: (deps) => createOrdersActivities(deps),
  },
  inventory: {
    service: 'inventory',
    taskQueue: INVENTORY_QUEUE,
    hostsWorkflows: false,
    createActivities: (deps) => createInventoryActivities(deps),
  },
  payments: {
    service: 'payments',
    taskQueue: PAYMENTS_QUEUE,
    hostsWorkflows: false,
    createActivities: (deps) => createPaymentsActivities(deps),
  },
  shipping: {
    service: 'shipping',
    taskQueue: SHIPPING_QUEUE,
    hostsWorkflows: false,
    createActivities: (deps) => createShippingActivities(deps),
  },
};

/** Parses `orders,payments` or `all` into service names; throws on an unknown name. */
export function parseServiceList(spec: string): ServiceName[] {
  const names = spec
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0 || names.includes('all')) return [...SERVICE_NAMES];
  for (const name of names) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}"; expected one of ${SERVICE_NAMES.join(', ')} or all`);
    }
  }
  return [...new Set(names)] as ServiceName[];
}
