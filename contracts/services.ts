/** The four services and their task queues. */
import { INVENTORY_QUEUE } from './inventory.js';
import { ORDERS_QUEUE } from './orders.js';
import { PAYMENTS_QUEUE } from './payments.js';
import { SHIPPING_QUEUE } from './shipping.js';

export const SERVICE_NAMES = ['orders', 'inventory', 'payments', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Task queue of each service; a service's activities run only on its own queue. */
export const TASK_QUEUES: Record<ServiceName, string> = {
  orders: ORDERS_QUEUE,
  inventory: INVENTORY_QUEUE,
  payments: PAYMENTS_QUEUE,
  shipping: SHIPPING_QUEUE,
};
