/**
 * A known mix of orders (3 completed, 2 declined, 1 out of stock, 1 undeliverable with a flaky refund, 1 cancelled
 * while its payment retries) and the exact saga metrics it must produce. Shared by the vitest check on /metrics
 * (tests/observability) and by the operator suite (`npm run operator:test`), which asks Prometheus for them.
 */

import type { Client } from '@temporalio/client';
import { type OrderState, orderWorkflowId } from '../../contracts/orders.js';
import type { Sample } from '../../harness/prometheus-text.js';

const ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 Analytical St',
  city: 'London',
  postalCode: 'N1',
  country: 'GB',
};

/** One order of the mix: its request body and the terminal status it must end in. */
interface MixOrder {
  label: string;
  body: Record<string, unknown>;
  expect: { status: OrderState['status']; failureCode: string | null };
  /** Cancel it while its charge waits for a retry (after exactly two failed attempts). */
  cancelWhileCharging?: boolean;
}

const order = (label: string, overrides: Record<string, unknown>, expect: MixOrder['expect']): MixOrder => ({
  label,
  body: {
    customerId: 'cust-observability',
    items: [{ sku: 'MUG-RED', quantity: 1 }],
    payment: { token: 'tok_ok' },
    shippingAddress: ADDRESS,
    ...overrides,
  },
  expect,
});

const completed = { status: 'COMPLETED', failureCode: null } as const;

/** The orders placed, in no particular order (they run concurrently). */
export const ORDER_MIX: readonly MixOrder[] = [
  order('completed 1', {}, completed),
  order('completed 2', { items: [{ sku: 'BOOK-SAGA', quantity: 2 }] }, completed),
  order('completed 3', { items: [{ sku: 'TSHIRT-M', quantity: 1 }] }, completed),
  order(
    'declined 1',
    { payment: { token: 'tok_declined' } },
    { status: 'FAILED', failureCode: 'PaymentDeclined' },
  ),
  order(
    'declined 2',
    { payment: { token: 'tok_declined' } },
    { status: 'FAILED', failureCode: 'PaymentDeclined' },
  ),
  order(
    'out of stock',
    { items: [{ sku: 'LIMITED-1', quantity: 1000 }] },
    { status: 'FAILED', failureCode: 'OutOfStock' },
  ),
  order(
    'undeliverable, refund fails twice',
    { payment: { token: 'tok_refund_flaky' }, shippingAddress: { ...ADDRESS, country: 'XX' } },
    { status: 'FAILED', failureCode: 'AddressUndeliverable' },
  ),
  {
    ...order(
      'cancelled while charging',
      { payment: { token: 'tok_flaky' } },
      { status: 'CANCELLED', failureCode: null },
    ),
    cancelWhileCharging: true,
  },
];

/** One expected series: metric name (for histograms the `_count`), labels, value. */
export type ExpectedSeries = Sample;

const series = (name: string, labels: Record<string, string>, value: number): ExpectedSeries => ({
  name,
  labels,
  value,
});
const step = (service: string, activity: string, outcome: string, value: number) =>
  series('saga_activity_duration_seconds_count', { service, activity, outcome }, value);
const failure = (service: string, activity: string, retryable: boolean, type: string, value: number) =>
  series('saga_activity_failures_total', { service, activity, retryable: String(retryable), type }, value);

/**
 * Every non-zero saga series the mix produces, exactly (lean sagas: the first status write records the order, so
 * no createOrderRecord). Status writes: 4 per completed order, 4 per declined,
 * 3 for out of stock, 5 for undeliverable, 4 for the cancelled one (32). Compensations in reverse: declined and
 * cancelled refund and release, out of stock releases, undeliverable refunds and releases: its own booking attempt
 * left the shipment row CANCELLED, so cancelShipment runs (a success) but has nothing to undo (not counted).
 */
export const EXPECTED_SAGA_SERIES: readonly ExpectedSeries[] = [
  series('saga_orders_started_total', {}, 8),
  series('saga_orders_finished_total', { outcome: 'completed' }, 3),
  series('saga_orders_finished_total', { outcome: 'failed', reason: 'PaymentDeclined' }, 2),
  series('saga_orders_finished_total', { outcome: 'failed', reason: 'OutOfStock' }, 1),
  series('saga_orders_finished_total', { outcome: 'failed', reason: 'AddressUndeliverable' }, 1),
  series('saga_orders_finished_total', { outcome: 'cancelled' }, 1),
  series('saga_order_duration_seconds_count', { outcome: 'completed' }, 3),
  series('saga_order_duration_seconds_count', { outcome: 'failed' }, 4),
  series('saga_order_duration_seconds_count', { outcome: 'cancelled' }, 1),
  step('orders', 'setOrderStatus', 'success', 32),
  step('inventory', 'reserveStock', 'success', 7),
  step('inventory', 'reserveStock', 'failure', 1),
  step('inventory', 'commitStock', 'success', 3),
  step('inventory', 'releaseStock', 'success', 5),
  step('payments', 'chargePayment', 'success', 4),
  step('payments', 'chargePayment', 'failure', 4),
  step('payments', 'refundPayment', 'success', 4),
  step('payments', 'refundPayment', 'failure', 2),
  step('shipping', 'createShipment', 'success', 3),
  step('shipping', 'createShipment', 'failure', 1),
  step('shipping', 'cancelShipment', 'success', 1),
  failure('inventory', 'reserveStock', false, 'OutOfStock', 1),
  failure('payments', 'chargePayment', false, 'PaymentDeclined', 2),
  failure('payments', 'chargePayment', true, 'Error', 2),
  failure('payments', 'refundPayment', true, 'Error', 2),
  failure('shipping', 'createShipment', false, 'AddressUndeliverable', 1),
  series('saga_compensations_total', { service: 'inventory', activity: 'releaseStock' }, 5),
  series('saga_compensations_total', { service: 'payments', activity: 'refundPayment' }, 4),
  series('saga_compensation_failures_total', { service: 'payments', activity: 'refundPayment' }, 2),
];

/** HTTP series the mix produces exactly (GETs used for polling vary, so only these are exact). */
export const EXPECTED_HTTP_SERIES: readonly ExpectedSeries[] = [
  series('http_requests_total', { method: 'POST', route: '/v1/orders', status: '200' }, 7),
  series('http_requests_total', { method: 'POST', route: '/v1/orders', status: '202' }, 1),
  series('http_requests_total', { method: 'POST', route: '/v1/orders', status: '422' }, 1),
  series('http_requests_total', { method: 'POST', route: '/v1/orders/:orderId/cancel', status: '202' }, 1),
  series('http_requests_total', { method: 'GET', route: '/v1/orders/:orderId', status: '404' }, 1),
];

/** Two requests the API must refuse (an unknown SKU, an unknown order), so error metrics have data too. */
async function sendRejectedRequests(baseUrl: string): Promise<void> {
  const unknownSku = await post(baseUrl, '/v1/orders', {
    ...(ORDER_MIX[0]?.body ?? {}),
    items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }],
  });
  if (unknownSku.status !== 422) throw new Error(`unknown SKU: expected HTTP 422, got ${unknownSku.status}`);
  const unknownOrder = await fetch(`${baseUrl}/v1/orders/ord_doesnotexist`);
  await unknownOrder.body?.cancel();
  if (unknownOrder.status !== 404)
    throw new Error(`unknown order: expected HTTP 404, got ${unknownOrder.status}`);
}

/** What happened to one order of the mix. */
export interface MixResult {
  label: string;
  orderId: string;
  status: string;
  failureCode: string | null;
  expect: MixOrder['expect'];
}

async function post(
  baseUrl: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: OrderState }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // Every answer used here is an order view or, on the error paths, thrown away after reading the status.
  return { status: response.status, json: (await response.json()) as OrderState };
}

async function readOrder(baseUrl: string, orderId: string): Promise<OrderState> {
  const response = await fetch(`${baseUrl}/v1/orders/${orderId}`);
  if (response.status !== 200) throw new Error(`GET order ${orderId}: HTTP ${response.status}`);
  return (await response.json()) as OrderState;
}

/** Waits until the order's charge has failed twice and waits for its third attempt, then cancels it over HTTP. */
async function cancelDuringChargeRetry(baseUrl: string, temporal: Client, orderId: string): Promise<void> {
  const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { raw } = await handle.describe();
    const charge = raw.pendingActivities?.find((a) => a.activityType?.name === 'chargePayment');
    // Attempt 3 scheduled: two attempts failed and the retry timer runs (1 s), so cancelling now is deterministic.
    if (charge && (charge.attempt ?? 0) >= 3) break;
    if (Date.now() > deadline) throw new Error(`order ${orderId} never reached its third charge attempt`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cancelled = await post(baseUrl, `/v1/orders/${orderId}/cancel`);
  if (cancelled.status !== 202) throw new Error(`cancel ${orderId}: HTTP ${cancelled.status}`);
}

async function waitForTerminal(baseUrl: string, orderId: string, timeoutMs = 30_000): Promise<OrderState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await readOrder(baseUrl, orderId);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(current.status)) return current;
    if (Date.now() > deadline) throw new Error(`order ${orderId} still ${current.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Places every order of the mix concurrently over the API, sends the two rejected requests, waits for the ends. */
export async function placeOrderMix(baseUrl: string, temporal: Client): Promise<MixResult[]> {
  await sendRejectedRequests(baseUrl);
  return Promise.all(
    ORDER_MIX.map(async (mix): Promise<MixResult> => {
      const placed = await post(
        baseUrl,
        mix.cancelWhileCharging ? '/v1/orders' : '/v1/orders?wait=30',
        mix.body,
      );
      if (placed.status !== (mix.cancelWhileCharging ? 202 : 200)) {
        throw new Error(`${mix.label}: HTTP ${placed.status} ${JSON.stringify(placed.json)}`);
      }
      const orderId = placed.json.orderId;
      if (mix.cancelWhileCharging) await cancelDuringChargeRetry(baseUrl, temporal, orderId);
      const final = mix.cancelWhileCharging ? await waitForTerminal(baseUrl, orderId) : placed.json;
      return {
        label: mix.label,
        orderId,
        status: final.status,
        failureCode: final.failureCode,
        expect: mix.expect,
      };
    }),
  );
}

/** Throws unless every order of the mix ended as expected (a metric check on a wrong mix would prove nothing). */
export function assertMixOutcomes(results: readonly MixResult[]): void {
  const wrong = results.filter((r) => r.status !== r.expect.status || r.failureCode !== r.expect.failureCode);
  if (wrong.length > 0) {
    const lines = wrong.map((r) => `  ${r.label} (${r.orderId}): ${r.status}/${r.failureCode}`);
    throw new Error(`orders ended unexpectedly:\n${lines.join('\n')}`);
  }
}
