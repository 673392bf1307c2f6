/**
 * Step two of the same change, once no run from before the patch is open: `deprecatePatch()` keeps the marker
 * for runs started under the patch, and the old path is gone.
 */
import { deprecatePatch, proxyActivities } from '@temporalio/workflow';
import { ORDERS_QUEUE, type OrderInput } from '../../../contracts/orders.js';
import { orderSaga as currentSaga } from '../../../workflows/order-saga.js';

const notify = proxyActivities<{ sendOrderConfirmation(orderId: string): Promise<void> }>({
  taskQueue: ORDERS_QUEUE,
  startToCloseTimeout: '10 seconds',
});

export async function orderSaga(input: OrderInput) {
  deprecatePatch('send-order-confirmation');
  await notify.sendOrderConfirmation(input.orderId);
  return currentSaga(input);
}
