/** Deliberately incompatible: a new first step added without `patched()`; replaying old histories must fail. */
import { proxyActivities } from '@temporalio/workflow';
import { ORDERS_QUEUE, type OrderInput } from '../../../contracts/orders.js';
import { orderSaga as currentSaga } from '../../../workflows/order-saga.js';

const notify = proxyActivities<{ sendOrderConfirmation(orderId: string): Promise<void> }>({
  taskQueue: ORDERS_QUEUE,
  startToCloseTimeout: '10 seconds',
});

export async function orderSaga(input: OrderInput) {
  await notify.sendOrderConfirmation(input.orderId);
  return currentSaga(input);
}
