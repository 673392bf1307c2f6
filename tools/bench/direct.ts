/** The direct mode of `npm run bench`: the saga's database steps in this process, without Temporal. */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { createPaymentsActivities } from '../../activities/payments.js';
import { createShippingActivities } from '../../activities/shipping.js';
import type { OrderStatus } from '../../contracts/orders.js';
import { silentLogger } from '../../core/logger.js';

/** The shipping address of every bench order. */
export const BENCH_ADDRESS = {
  name: 'Bench Marker',
  line1: '1 Fast Lane',
  city: 'Leeds',
  postalCode: 'LS1 1AA',
  country: 'GB',
};

/** The order every benchmark places through the API: one unit of the bench product, a card that is accepted. */
export const BENCH_ORDER = {
  customerId: 'bench',
  items: [{ sku: 'B-1', quantity: 1 }],
  payment: { token: 'tok_ok' },
  shippingAddress: BENCH_ADDRESS,
};

/** CPU seconds this process has used so far (the direct mode's workers are this process). */
export function ownCpuSeconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/** The saga's database steps called in sequence in this process, with no Temporal: a non-durable monolith. */
export function directSteps(db: Parameters<typeof createOrdersActivities>[0]['db']) {
  const orders = createOrdersActivities({ db });
  const inventory = createInventoryActivities({ db });
  const payments = createPaymentsActivities({ db });
  const shipping = createShippingActivities({ db });
  const env = new MockActivityEnvironment({}, { logger: silentLogger });
  return async () => {
    const orderId = `ord_${randomUUID().replaceAll('-', '')}`;
    const items = [{ sku: 'B-1', quantity: 1, unitPriceCents: 1000 }];
    const status = (s: OrderStatus, seq: number) =>
      env.run(orders.setOrderStatus, { orderId, status: s, seq });
    await env.run(orders.createOrderRecord, {
      orderId,
      customerId: 'bench',
      items,
      totalCents: 1000,
      createdAt: new Date().toISOString(),
    });
    await status('RESERVING', 1);
    await env.run(inventory.reserveStock, { orderId, items: [{ sku: 'B-1', quantity: 1 }] });
    await status('CHARGING', 2);
    await env.run(payments.chargePayment, { orderId, amountCents: 1000, paymentToken: 'tok_ok' });
    await status('SHIPPING', 3);
    await env.run(shipping.createShipment, { orderId, address: BENCH_ADDRESS });
    await env.run(inventory.commitStock, { orderId });
    await status('COMPLETED', 4);
  };
}
