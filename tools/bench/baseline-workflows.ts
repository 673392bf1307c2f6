/**
 * The bench's baselines, as a team writes them from the SDK samples:
 *   floorWorkflow — five no-op activities in sequence: Temporal's own cost;
 *   plainSaga — the saga's database steps (the same activities) as plain activities on one queue, compensated in
 *   reverse on a failure, with none of the project's extras (no views, upserts, tombstones, cancel, summaries).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { InventoryActivities } from '../../contracts/inventory.js';
import type { OrderInput, OrdersActivities } from '../../contracts/orders.js';
import type { PaymentsActivities } from '../../contracts/payments.js';
import type { ShippingActivities } from '../../contracts/shipping.js';

/** Task queue of the floor worker, apart from the services' queues. */
export const FLOOR_QUEUE = 'bench-floor';
/** Task queue of the plain saga's worker: the workflow and all nine activities. */
export const PLAIN_QUEUE = 'bench-plain';

const { noop } = proxyActivities<{ noop(step: number): Promise<void> }>({
  taskQueue: FLOOR_QUEUE,
  startToCloseTimeout: '10 seconds',
});

export async function floorWorkflow(): Promise<void> {
  for (let step = 1; step <= 5; step++) await noop(step);
}

type PlainActivities = OrdersActivities & InventoryActivities & PaymentsActivities & ShippingActivities;

const steps = proxyActivities<PlainActivities>({
  taskQueue: PLAIN_QUEUE,
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function plainSaga(input: OrderInput): Promise<string> {
  const { orderId } = input;
  await steps.createOrderRecord({
    orderId,
    customerId: input.customerId,
    items: input.items,
    totalCents: input.totalCents,
    createdAt: input.createdAt,
  });
  const undo: (() => Promise<unknown>)[] = [];
  try {
    await steps.setOrderStatus({ orderId, status: 'RESERVING', seq: 1 });
    undo.push(() => steps.releaseStock({ orderId }));
    await steps.reserveStock({ orderId, items: input.items.map(({ sku, quantity }) => ({ sku, quantity })) });
    await steps.setOrderStatus({ orderId, status: 'CHARGING', seq: 2 });
    undo.push(() => steps.refundPayment({ orderId }));
    await steps.chargePayment({ orderId, amountCents: input.totalCents, paymentToken: input.paymentToken });
    await steps.setOrderStatus({ orderId, status: 'SHIPPING', seq: 3 });
    undo.push(() => steps.cancelShipment({ orderId }));
    await steps.createShipment({ orderId, address: input.shippingAddress });
    await steps.commitStock({ orderId });
    await steps.setOrderStatus({ orderId, status: 'COMPLETED', seq: 4 });
    return 'COMPLETED';
  } catch (err) {
    for (const compensate of undo.reverse()) await compensate();
    await steps.setOrderStatus({ orderId, status: 'FAILED', seq: 5 });
    throw err;
  }
}
