/** Deliberately incompatible: charges before reserving stock; replaying old histories must fail. */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { InventoryActivities } from '../../../contracts/inventory.js';
import { INVENTORY_QUEUE } from '../../../contracts/inventory.js';
import { ORDERS_QUEUE, type OrderInput, type OrdersActivities } from '../../../contracts/orders.js';
import { PAYMENTS_QUEUE, type PaymentsActivities } from '../../../contracts/payments.js';
import { ORDER_STATUS_KEY } from '../../../contracts/search-attributes.js';

const timeout = { startToCloseTimeout: '10 seconds' } as const;
const orders = proxyActivities<OrdersActivities>({ ...timeout, taskQueue: ORDERS_QUEUE });
const inventory = proxyActivities<InventoryActivities>({ ...timeout, taskQueue: INVENTORY_QUEUE });
const payments = proxyActivities<PaymentsActivities>({ ...timeout, taskQueue: PAYMENTS_QUEUE });

export async function orderSaga(input: OrderInput) {
  const { orderId } = input;
  upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: 'PENDING' }]);
  await orders.createOrderRecord({ ...input });
  await payments.chargePayment({ orderId, amountCents: input.totalCents, paymentToken: input.paymentToken });
  await inventory.reserveStock({ orderId, items: input.items });
}
