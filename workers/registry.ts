/** Every service worker by name, and the parsing of a `--service` list. */
import { SERVICE_NAMES, type ServiceName } from '../contracts/services.js';
import { inventoryWorker } from './inventory.js';
import { ordersWorker } from './orders.js';
import { paymentsWorker } from './payments.js';
import type { ServiceWorkerDefinition } from './service-worker.js';
import { shippingWorker } from './shipping.js';

export const SERVICE_WORKERS: Record<ServiceName, ServiceWorkerDefinition> = {
  orders: ordersWorker,
  inventory: inventoryWorker,
  payments: paymentsWorker,
  shipping: shippingWorker,
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
