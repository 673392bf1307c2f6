/**
 * Every service worker by name (its queue, whether it hosts the saga, its activities), the worker of colocated
 * orders, and `--service` parsing.
 */
import { createColocatedActivities, type ServiceActivities } from '../activities/colocated.js';
import { createInventoryActivities } from '../activities/inventory.js';
import { createOrdersActivities } from '../activities/orders.js';
import { createPaymentsActivities } from '../activities/payments.js';
import { createShippingActivities } from '../activities/shipping.js';
import { INVENTORY_QUEUE, type InventoryActivities } from '../contracts/inventory.js';
import { COLOCATED_QUEUE, ORDERS_QUEUE, type OrdersActivities } from '../contracts/orders.js';
import { PAYMENTS_QUEUE, type PaymentsActivities } from '../contracts/payments.js';
import { SERVICE_NAMES, type ServiceName } from '../contracts/services.js';
import { SHIPPING_QUEUE, type ShippingActivities } from '../contracts/shipping.js';
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

type ActivityName = keyof (OrdersActivities & InventoryActivities & PaymentsActivities & ShippingActivities);

/** The service each activity belongs to (the label of its metrics when the colocated worker runs it). */
export const ACTIVITY_SERVICES: Record<ActivityName, ServiceName> = {
  createOrderRecord: 'orders',
  setOrderStatus: 'orders',
  reserveStock: 'inventory',
  releaseStock: 'inventory',
  commitStock: 'inventory',
  chargePayment: 'payments',
  refundPayment: 'payments',
  createShipment: 'shipping',
  cancelShipment: 'shipping',
};

/**
 * The worker of colocated orders, in a process hosting every service: the saga and all four services' activities
 * (as local activities) on the colocated queue, which no other worker polls, and `announceAndRun`, a step with the
 * status write before it in one local activity.
 */
export const COLOCATED_WORKER: ServiceWorkerDefinition = {
  service: 'colocated',
  taskQueue: COLOCATED_QUEUE,
  hostsWorkflows: true,
  createActivities(deps) {
    const all: Record<string, unknown> = {};
    for (const service of SERVICE_NAMES) {
      for (const [name, activity] of Object.entries(SERVICE_WORKERS[service].createActivities(deps))) {
        if (name in all) throw new Error(`activity ${name} is defined by two services`);
        all[name] = activity;
      }
    }
    const colocated = createColocatedActivities(all as unknown as ServiceActivities);
    return { ...all, ...colocated };
  },
};

/** Whether a process running `services` hosts every service (and so also runs the colocated worker). */
export function hostsEveryService(services: readonly ServiceName[]): boolean {
  return SERVICE_NAMES.every((service) => services.includes(service));
}

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
