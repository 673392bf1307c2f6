/**
 * The order saga: reserve stock, charge, ship, commit — compensated in reverse on a business failure or a cancel.
 * Deterministic workflow code: imports only @temporalio/workflow and pure contract modules.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { InventoryActivities } from '../contracts/inventory.js';
import { INVENTORY_QUEUE } from '../contracts/inventory.js';
import type {
  CancelResult,
  OrderInput,
  OrderState,
  OrderStatus,
  OrdersActivities,
  StepName,
} from '../contracts/orders.js';
import { CANCELLABLE_STATUSES, ORDERS_QUEUE } from '../contracts/orders.js';
import type { PaymentsActivities } from '../contracts/payments.js';
import { PAYMENTS_QUEUE } from '../contracts/payments.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../contracts/search-attributes.js';
import type { ShippingActivities } from '../contracts/shipping.js';
import { SHIPPING_QUEUE } from '../contracts/shipping.js';
import { type Compensation, CompensationStack } from './compensations.js';
import { cancelOrderUpdate, getOrderQuery } from './definitions.js';
import { initialOrderState, markStep, reasonOf } from './order-state.js';
import {
  BOOKKEEPING_OPTIONS,
  COMPENSATION_OPTIONS,
  FORWARD_STEP_OPTIONS,
  LOCAL_BOOKKEEPING_OPTIONS,
  LOCAL_BOOKKEEPING_PATCH,
} from './policies.js';

const remoteOrders = proxyActivities<OrdersActivities>({ ...BOOKKEEPING_OPTIONS, taskQueue: ORDERS_QUEUE });
const localOrders = proxyLocalActivities<OrdersActivities>(LOCAL_BOOKKEEPING_OPTIONS);
const inventory = proxyActivities<InventoryActivities>({
  ...FORWARD_STEP_OPTIONS,
  taskQueue: INVENTORY_QUEUE,
});
const payments = proxyActivities<PaymentsActivities>({ ...FORWARD_STEP_OPTIONS, taskQueue: PAYMENTS_QUEUE });
const shipping = proxyActivities<ShippingActivities>({ ...FORWARD_STEP_OPTIONS, taskQueue: SHIPPING_QUEUE });
const undo = {
  inventory: proxyActivities<InventoryActivities>({ ...COMPENSATION_OPTIONS, taskQueue: INVENTORY_QUEUE }),
  payments: proxyActivities<PaymentsActivities>({ ...COMPENSATION_OPTIONS, taskQueue: PAYMENTS_QUEUE }),
  shipping: proxyActivities<ShippingActivities>({ ...COMPENSATION_OPTIONS, taskQueue: SHIPPING_QUEUE }),
};

/** Thrown between steps when a cancel was accepted; ends the forward path. */
class CancelRequested extends Error {}

/** Runs one order to a terminal state and returns its final view (business failures end in FAILED, not a throw). */
export async function orderSaga(input: OrderInput): Promise<OrderState> {
  const state = initialOrderState(input, new Date().toISOString());
  // The orders service's own writes run as local activities in this worker (fewer server round trips per order);
  // runs started before this change keep their remote bookkeeping on replay.
  const orders = patched(LOCAL_BOOKKEEPING_PATCH) ? localOrders : remoteOrders;
  const compensations = new CompensationStack();
  const { orderId } = input;
  let statusSeq = 0;
  /** Scope of the step in flight; an accepted cancel cancels it so a step stuck in retries cannot delay it. */
  let stepScope: CancellationScope | undefined;

  setHandler(getOrderQuery, () => state);
  setHandler(
    cancelOrderUpdate,
    (): CancelResult => {
      state.cancelRequested = true;
      // Safe to abandon the step: its compensation is already registered, and tombstones make a late landing a no-op.
      stepScope?.cancel();
      log.info('cancel accepted', { orderId, status: state.status });
      return { accepted: true, status: state.status };
    },
    {
      validator: () => {
        if (state.cancelRequested) return;
        if (!CANCELLABLE_STATUSES.includes(state.status)) {
          throw new Error(`order ${orderId} is ${state.status} and can no longer be cancelled`);
        }
      },
    },
  );

  const setStatus = async (status: OrderStatus, waitingOn: string): Promise<void> => {
    state.status = status;
    state.updatedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: status }]);
    setCurrentDetails(`**${status}** — ${waitingOn}`);
    statusSeq += 1;
    await orders.setOrderStatus.executeWithOptions({ summary: `orders: order ${orderId} is ${status}` }, [
      { orderId, status, seq: statusSeq, failureReason: state.failureReason },
    ]);
  };

  const stopIfCancelled = (): void => {
    if (state.cancelRequested) throw new CancelRequested();
  };

  /** Registers the compensation first (a step that timed out may still have happened), then runs the step. */
  const runStep = async <T>(step: StepName, compensation: Compensation | null, action: () => Promise<T>) => {
    // A cancel accepted during the status write stops here, before the step has any effect to undo.
    if (compensation) stopIfCancelled();
    if (compensation) compensations.push(compensation);
    markStep(state, step, 'RUNNING', new Date().toISOString());
    const scope = new CancellationScope();
    stepScope = scope;
    try {
      const result = await scope.run(action);
      markStep(state, step, 'SUCCEEDED', new Date().toISOString());
      return result;
    } catch (err) {
      const error = isCancellation(err) ? 'cancelled' : reasonOf(err).message;
      markStep(state, step, 'FAILED', new Date().toISOString(), error);
      throw err;
    } finally {
      stepScope = undefined;
    }
  };

  if (workflowInfo().typedSearchAttributes.get(CUSTOMER_ID_KEY) !== input.customerId) {
    upsertSearchAttributes([{ key: CUSTOMER_ID_KEY, value: input.customerId }]);
  }
  upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: 'PENDING' }]);
  setCurrentDetails(`**PENDING** — recording order ${orderId}`);
  // Non-cancellable: every later status write needs this row, so it must exist even if a cancel lands now.
  await CancellationScope.nonCancellable(() =>
    orders.createOrderRecord.executeWithOptions({ summary: `orders: record order ${orderId}` }, [
      {
        orderId,
        customerId: input.customerId,
        items: input.items,
        totalCents: input.totalCents,
        createdAt: input.createdAt,
      },
    ]),
  );

  const units = input.items.reduce((sum, item) => sum + item.quantity, 0);
  try {
    stopIfCancelled();
    await setStatus('RESERVING', `inventory: reserving ${units} units`);
    await runStep(
      'reserveStock',
      {
        step: 'reserveStock',
        run: () =>
          undo.inventory.releaseStock.executeWithOptions(
            { summary: `inventory: release stock of order ${orderId} (compensation)` },
            [{ orderId }],
          ),
      },
      () =>
        inventory.reserveStock.executeWithOptions(
          { summary: `inventory: reserve ${units} units of ${input.items.length} SKUs for order ${orderId}` },
          [{ orderId, items: input.items.map(({ sku, quantity }) => ({ sku, quantity })) }],
        ),
    );

    stopIfCancelled();
    await setStatus('CHARGING', `payments: charging ${input.totalCents} cents`);
    const charge = await runStep(
      'chargePayment',
      {
        step: 'chargePayment',
        run: async () => {
          const refund = await undo.payments.refundPayment.executeWithOptions(
            { summary: `payments: refund order ${orderId} (compensation)` },
            [{ orderId }],
          );
          if (refund.status === 'REFUNDED') state.payment.status = 'REFUNDED';
        },
      },
      () =>
        payments.chargePayment.executeWithOptions(
          { summary: `payments: charge ${input.totalCents} cents for order ${orderId}` },
          [{ orderId, amountCents: input.totalCents, paymentToken: input.paymentToken }],
        ),
    );
    if (charge.status === 'CHARGED') state.payment = { status: 'CHARGED', amountCents: charge.amountCents };

    stopIfCancelled();
    await setStatus('SHIPPING', `shipping: creating shipment to ${input.shippingAddress.country}`);
    const shipment = await runStep(
      'createShipment',
      {
        step: 'createShipment',
        run: async () => {
          const cancelled = await undo.shipping.cancelShipment.executeWithOptions(
            { summary: `shipping: cancel shipment of order ${orderId} (compensation)` },
            [{ orderId }],
          );
          if (state.shipment.status === 'CREATED' && cancelled.status === 'CANCELLED') {
            state.shipment.status = 'CANCELLED';
          }
        },
      },
      () =>
        shipping.createShipment.executeWithOptions(
          { summary: `shipping: create shipment for order ${orderId}` },
          [{ orderId, address: input.shippingAddress }],
        ),
    );
    if (shipment.status === 'CREATED')
      state.shipment = { status: 'CREATED', trackingId: shipment.trackingId };

    // Point of no return: the shipment exists, so finishing is the only consistent outcome, even on cancellation.
    await CancellationScope.nonCancellable(async () => {
      await runStep('commitStock', null, () =>
        inventory.commitStock.executeWithOptions({ summary: `inventory: commit stock of order ${orderId}` }, [
          { orderId },
        ]),
      );
      await setStatus('COMPLETED', 'done');
    });
    log.info('order completed', { orderId });
    return state;
  } catch (err) {
    // An accepted cancel wins over a failure that raced it: the client was told the order is being cancelled.
    const cancelled = state.cancelRequested || err instanceof CancelRequested || isCancellation(err);
    if (!cancelled && !(err instanceof ActivityFailure) && !(err instanceof ApplicationFailure)) throw err;
    const reason = cancelled ? null : reasonOf(err);
    state.failureReason = reason?.message ?? null;
    state.failureCode = reason?.code ?? null;
    log.warn('order compensating', { orderId, cancelled, failureCode: state.failureCode });
    // Compensations must finish even if the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      await setStatus('COMPENSATING', `undoing ${compensations.size} step(s) in reverse`);
      await compensations.runAll((step, phase) => markStep(state, step, phase, new Date().toISOString()));
      await setStatus(cancelled ? 'CANCELLED' : 'FAILED', 'done');
    });
    return state;
  }
}
