/** Maps the saga's order state to the API's order view, tolerating fields older saga versions did not record. */
import type { OrderState } from '../../contracts/orders.js';
import { orderLinks } from './links.js';
import type { OrderView } from './schemas.js';

/** The order as clients see it: the saga's state plus links; `stale` marks a live order's last recorded view. */
export function orderView(state: OrderState, options: { stale?: boolean } = {}): OrderView {
  return {
    orderId: state.orderId,
    customerId: state.customerId,
    status: state.status,
    items: state.items.map(({ sku, quantity, unitPriceCents }) => ({ sku, quantity, unitPriceCents })),
    totalCents: state.totalCents,
    steps: state.steps.map(({ name, status, at, error }) => ({ name, status, at, error: error ?? null })),
    payment: { status: state.payment.status, amountCents: state.payment.amountCents },
    shipment: { status: state.shipment.status, trackingId: state.shipment.trackingId ?? null },
    failureReason: state.failureReason ?? null,
    failureCode: state.failureCode ?? null,
    cancelRequested: state.cancelRequested ?? false,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    ...(options.stale ? { stale: true } : {}),
    links: orderLinks(state.orderId),
  };
}
