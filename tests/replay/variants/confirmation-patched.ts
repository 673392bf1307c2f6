/**
 * The safe way to add the same step (docs/EVOLVING_THE_SAGA.md): behind `patched()`, so runs that started
 * before the change replay the old path and new runs take the new one.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import { ORDERS_QUEUE, type OrderInput } from '../../../contracts/orders.js';
import { orderSaga as currentSaga } from '../../../workflows/order-saga.js';

export const CONFIRMATION_PATCH = 'send-order-confirmation';

const notify = proxyActivities<{ sendOrderConfirmation(orderId: string): Promise<void> }>({
  taskQueue: ORDERS_QUEUE,
  startToCloseTimeout: '10 seconds',
});

export async function orderSaga(input: OrderInput) {
  if (patched(CONFIRMATION_PATCH)) await notify.sendOrderConfirmation(input.orderId);
  return currentSaga(input);
}
