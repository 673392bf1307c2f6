/**
 * The order saga: reserve stock, charge, ship, commit — compensated in reverse on a business failure or a cancel.
 * Deterministic workflow code: imports only @temporalio/workflow and pure contract modules.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
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
import type { AnnouncedResults, AnnouncedStep, ColocatedActivities } from '../contracts/colocated.js';
import type { InventoryActivities } from '../contracts/inventory.js';
import { INVENTORY_QUEUE } from '../contracts/inventory.js';
import type {
  CancelResult,
  OperatorActionResult,
  OrderInput,
  OrderState,
  OrderStatus,
  OrdersActivities,
  SetOrderStatusInput,
  StepName,
  StepStatus,
} from '../contracts/orders.js';
import { CANCELLABLE_STATUSES, ORDERS_QUEUE, STEP_VOIDED } from '../contracts/orders.js';
import type { PaymentsActivities } from '../contracts/payments.js';
import { PAYMENTS_QUEUE } from '../contracts/payments.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../contracts/search-attributes.js';
import type { ShippingActivities } from '../contracts/shipping.js';
import { SHIPPING_QUEUE } from '../contracts/shipping.js';
import { type Compensation, CompensationStack } from './compensations.js';
import {
  cancelOrderUpdate,
  getOrderQuery,
  resolveCompensationsUpdate,
  retryCompensationsUpdate,
} from './definitions.js';
import { initialOrderState, markStep, reasonOf } from './order-state.js';
import {
  BOOKKEEPING_OPTIONS,
  COMPENSATION_OPTIONS,
  FORWARD_STEP_OPTIONS,
  LEAN_SAGA_PATCH,
  LOCAL_BOOKKEEPING_OPTIONS,
  LOCAL_BOOKKEEPING_PATCH,
  LOCAL_COMPENSATION_OPTIONS,
  LOCAL_STEP_OPTIONS,
  TRUSTED_OUTCOMES_PATCH,
} from './policies.js';

const remoteOrders = proxyActivities<OrdersActivities>({ ...BOOKKEEPING_OPTIONS, taskQueue: ORDERS_QUEUE });
const localOrders = proxyLocalActivities<OrdersActivities>(LOCAL_BOOKKEEPING_OPTIONS);
const inventory = proxyActivities<InventoryActivities>({
  ...FORWARD_STEP_OPTIONS,
  taskQueue: INVENTORY_QUEUE,
});
const payments = proxyActivities<PaymentsActivities>({ ...FORWARD_STEP_OPTIONS, taskQueue: PAYMENTS_QUEUE });
const shipping = proxyActivities<ShippingActivities>({ ...FORWARD_STEP_OPTIONS, taskQueue: SHIPPING_QUEUE });
/** The service steps of a distributed order: each on its service's queue, run by that service's worker. */
const distributedSteps = {
  commit: inventory,
  inventory,
  payments,
  shipping,
  undo: {
    inventory: proxyActivities<InventoryActivities>({ ...COMPENSATION_OPTIONS, taskQueue: INVENTORY_QUEUE }),
    payments: proxyActivities<PaymentsActivities>({ ...COMPENSATION_OPTIONS, taskQueue: PAYMENTS_QUEUE }),
    shipping: proxyActivities<ShippingActivities>({ ...COMPENSATION_OPTIONS, taskQueue: SHIPPING_QUEUE }),
  },
};
/**
 * The service steps of a colocated order: local activities of the one worker that hosts every service, except the
 * commit after the point of no return, an activity on the order's own queue. Scheduling it ends the workflow task
 * that ran the steps before it, so their markers are in the history before anything can complete the workflow.
 */
const colocatedSteps = {
  announcing: proxyLocalActivities<ColocatedActivities>(LOCAL_STEP_OPTIONS),
  commit: proxyActivities<InventoryActivities>(FORWARD_STEP_OPTIONS),
  inventory: proxyLocalActivities<InventoryActivities>(LOCAL_STEP_OPTIONS),
  payments: proxyLocalActivities<PaymentsActivities>(LOCAL_STEP_OPTIONS),
  shipping: proxyLocalActivities<ShippingActivities>(LOCAL_STEP_OPTIONS),
  undo: {
    inventory: proxyLocalActivities<InventoryActivities>(LOCAL_COMPENSATION_OPTIONS),
    payments: proxyLocalActivities<PaymentsActivities>(LOCAL_COMPENSATION_OPTIONS),
    shipping: proxyLocalActivities<ShippingActivities>(LOCAL_COMPENSATION_OPTIONS),
  },
};

/** Statuses of the forward path, between PENDING and the end. */
const FORWARD_STATUSES: readonly OrderStatus[] = ['RESERVING', 'CHARGING', 'SHIPPING'];

/** Thrown between steps when a cancel was accepted; ends the forward path. */
class CancelRequested extends Error {}

/** What an operator decided for an order whose compensations failed. */
type OperatorDecision = { kind: 'retry' } | { kind: 'resolve'; note: string };

/** A step that found its compensation had already run: it did nothing, so the order cannot go on. */
function stepVoided(step: StepName, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: STEP_VOIDED,
    nonRetryable: true,
    message: `${step} did nothing: ${what} (its compensation had already run)`,
  });
}

/** A failure Temporal reports for an activity or a business rule (not a bug in workflow code). */
const isStepFailure = (err: unknown) => err instanceof ActivityFailure || err instanceof ApplicationFailure;

/** Snapshot of the view for an activity input (plain JSON, detached from later changes). */
const snapshot = (state: OrderState): OrderState => JSON.parse(JSON.stringify(state)) as OrderState;

/** Runs one order to a terminal state and returns its final view (business failures end in FAILED, not a throw). */
export async function orderSaga(input: OrderInput): Promise<OrderState> {
  const state = initialOrderState(input, new Date().toISOString());
  // Fixed in the input (in the history): a running order never changes placement, replay takes the same path, and
  // only a worker hosting every service polls the queue a colocated order is started on. All are of the newest shape.
  const colocated = input.placement === 'colocated';
  const { commit, inventory, payments, shipping, undo } = colocated ? colocatedSteps : distributedSteps;
  const colocatedOps = colocatedSteps.announcing;
  // Asked first: a lean run implies local bookkeeping, so it records one patch marker (and one change-version
  // upsert) rather than two. Runs started before it have no lean marker and ask about local bookkeeping as before.
  const lean = colocated || patched(LEAN_SAGA_PATCH);
  // The orders service's own writes run as local activities in this worker (fewer server round trips per order);
  // runs started before this change keep their remote bookkeeping on replay.
  const orders = lean || patched(LOCAL_BOOKKEEPING_PATCH) ? localOrders : remoteOrders;
  /** Lean shape: until a status write succeeded, each write may be the one that records the order. */
  let recorded = !lean;
  /** Colocated: the forward status write that waits to run with the step it announces. */
  let announcement: SetOrderStatusInput | undefined;
  const compensations = new CompensationStack();
  const { orderId } = input;
  let statusSeq = 0;
  /** Scope of the step in flight; an accepted cancel cancels it so a step stuck in retries cannot delay it. */
  let stepScope: CancellationScope | undefined;
  /** Steps whose compensation failed for good, while the order waits for an operator. */
  let awaitingOperator: StepName[] = [];
  let operatorDecision: OperatorDecision | undefined;

  setHandler(getOrderQuery, () => state);
  const operatorValidator = () => {
    if (state.status !== 'COMPENSATION_FAILED' || awaitingOperator.length === 0 || operatorDecision) {
      throw new Error(`order ${orderId} is ${state.status}: no failed compensation waits for an operator`);
    }
  };
  setHandler(
    retryCompensationsUpdate,
    (): OperatorActionResult => {
      operatorDecision = { kind: 'retry' };
      log.info('operator retries compensations', { orderId, steps: awaitingOperator });
      return { accepted: true, steps: awaitingOperator };
    },
    { validator: operatorValidator },
  );
  setHandler(
    resolveCompensationsUpdate,
    ({ note }): OperatorActionResult => {
      operatorDecision = { kind: 'resolve', note };
      log.info('operator resolved compensations by hand', { orderId, steps: awaitingOperator });
      return { accepted: true, steps: awaitingOperator };
    },
    {
      validator: (input) => {
        operatorValidator();
        if (typeof input?.note !== 'string' || input.note.trim().length === 0) {
          throw new Error('resolveCompensations needs a note saying how the compensation was settled');
        }
      },
    },
  );
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
    // A colocated order passes its forward statuses inside one workflow task: visibility would see only the last.
    if (!(colocated && FORWARD_STATUSES.includes(status))) {
      upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: status }]);
    }
    setCurrentDetails(`**${status}** — ${waitingOn}`);
    const extra = {
      failureReason: state.failureReason,
      ...(input.clientId ? { clientId: input.clientId } : {}),
      view: snapshot(state),
    };
    // Colocated, a forward status travels with the step it announces, in one local activity.
    if (colocated && FORWARD_STATUSES.includes(status)) announcement = statusWrite(status, extra);
    else await writeStatus(status, extra);
  };

  /** The next status write to the orders records: the next seq (so a late retry never moves the order back). */
  const statusWrite = (status: OrderStatus, extra: Partial<SetOrderStatusInput>): SetOrderStatusInput => {
    statusSeq += 1;
    const firstWrite = recorded
      ? {}
      : { firstWrite: input.requestHash ? { requestHash: input.requestHash } : {} };
    return { orderId, status, seq: statusSeq, failureCode: state.failureCode, ...extra, ...firstWrite };
  };

  /** One status write on its own. */
  const writeStatus = async (status: OrderStatus, extra: Partial<SetOrderStatusInput>): Promise<void> => {
    await orders.setOrderStatus.executeWithOptions({ summary: `orders: order ${orderId} is ${status}` }, [
      statusWrite(status, extra),
    ]);
    recorded = true;
  };

  /** Runs a forward step; colocated, the status write announcing it runs first in the same local activity. */
  const announced = async <S extends AnnouncedStep>(
    step: S,
    summary: string,
    run: (input: S['input']) => Promise<AnnouncedResults[S['name']]>,
  ): Promise<AnnouncedResults[S['name']]> => {
    const status = announcement;
    if (!status) return run(step.input);
    announcement = undefined;
    const result = await colocatedOps.announceAndRun.executeWithOptions(
      { summary: `orders: order ${orderId} is ${status.status}, then ${summary}` },
      [{ status, step }],
    );
    recorded = true;
    return result as AnnouncedResults[S['name']];
  };

  /**
   * Status writes after the forward path ended: one that fails for good (a data error) must not leave the workflow
   * failed with its compensations undone; the saga logs it and goes on (sagas started before this rethrow).
   */
  const setClosingStatus = async (status: OrderStatus, waitingOn: string): Promise<void> => {
    try {
      await setStatus(status, waitingOn);
    } catch (err) {
      if (!isStepFailure(err) || !patched(TRUSTED_OUTCOMES_PATCH)) throw err;
      // The view may be what the database refused: the status alone still tells readers (and alerts) where it is.
      try {
        await writeStatus(status, {});
      } catch {
        log.error('order status write failed for good; the record is stale', { orderId, status });
      }
    }
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

  /** The order's row, before any step (shapes before the lean one); a failure for good is returned, not thrown. */
  const recordOrder = async (): Promise<unknown> => {
    try {
      // Non-cancellable: every later status write needs this row, so it must exist even if a cancel lands now.
      await CancellationScope.nonCancellable(() =>
        orders.createOrderRecord.executeWithOptions({ summary: `orders: record order ${orderId}` }, [
          {
            orderId,
            customerId: input.customerId,
            ...(input.clientId ? { clientId: input.clientId } : {}),
            ...(input.requestHash ? { requestHash: input.requestHash } : {}),
            items: input.items,
            totalCents: input.totalCents,
            createdAt: input.createdAt,
          },
        ]),
      );
      return undefined;
    } catch (err) {
      if (!isStepFailure(err) || !patched(TRUSTED_OUTCOMES_PATCH)) throw err;
      return err;
    }
  };

  const startAttributes = workflowInfo().typedSearchAttributes;
  if (startAttributes.get(CUSTOMER_ID_KEY) !== input.customerId) {
    upsertSearchAttributes([{ key: CUSTOMER_ID_KEY, value: input.customerId }]);
  }
  if (!lean || startAttributes.get(ORDER_STATUS_KEY) !== 'PENDING') {
    upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: 'PENDING' }]);
  }
  setCurrentDetails(`**PENDING** — recording order ${orderId}`);
  /** A first write that failed for good: the order fails (the terminal write creates the row from its view). */
  // The lean shape records the order with its first status write (RESERVING, or a closing one) instead.
  const recordFailure = lean ? undefined : await recordOrder();

  const releaseStock: Compensation = {
    step: 'reserveStock',
    run: () =>
      undo.inventory.releaseStock.executeWithOptions(
        { summary: `inventory: release stock of order ${orderId} (compensation)` },
        [{ orderId }],
      ),
  };
  const refundPayment: Compensation = {
    step: 'chargePayment',
    run: async () => {
      const refund = await undo.payments.refundPayment.executeWithOptions(
        { summary: `payments: refund order ${orderId} (compensation)` },
        [{ orderId }],
      );
      if (refund.status === 'REFUNDED') state.payment.status = 'REFUNDED';
    },
  };
  const cancelShipment: Compensation = {
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
  };

  const units = input.items.reduce((sum, item) => sum + item.quantity, 0);
  try {
    if (recordFailure) throw recordFailure;
    stopIfCancelled();
    await setStatus('RESERVING', `inventory: reserving ${units} units`);
    await runStep('reserveStock', releaseStock, async () => {
      const summary = `inventory: reserve ${units} units of ${input.items.length} SKUs for order ${orderId}`;
      const reservation = await announced(
        {
          name: 'reserveStock',
          input: { orderId, items: input.items.map(({ sku, quantity }) => ({ sku, quantity })) },
        },
        summary,
        (stepInput) => inventory.reserveStock.executeWithOptions({ summary }, [stepInput]),
      );
      if (reservation.status === 'RELEASED' && patched(TRUSTED_OUTCOMES_PATCH)) {
        throw stepVoided('reserveStock', 'the stock was already released');
      }
      return reservation;
    });

    stopIfCancelled();
    await setStatus('CHARGING', `payments: charging ${input.totalCents} cents`);
    const charge = await runStep('chargePayment', refundPayment, async () => {
      const summary = `payments: charge ${input.totalCents} cents for order ${orderId}`;
      const result = await announced(
        {
          name: 'chargePayment',
          input: { orderId, amountCents: input.totalCents, paymentToken: input.paymentToken },
        },
        summary,
        (stepInput) => payments.chargePayment.executeWithOptions({ summary }, [stepInput]),
      );
      if (result.status === 'VOIDED' && patched(TRUSTED_OUTCOMES_PATCH)) {
        throw stepVoided('chargePayment', 'the charge was voided');
      }
      return result;
    });
    if (charge.status === 'CHARGED') state.payment = { status: 'CHARGED', amountCents: charge.amountCents };

    stopIfCancelled();
    await setStatus('SHIPPING', `shipping: creating shipment to ${input.shippingAddress.country}`);
    const shipment = await runStep('createShipment', cancelShipment, async () => {
      const summary = `shipping: create shipment for order ${orderId}`;
      const result = await announced(
        { name: 'createShipment', input: { orderId, address: input.shippingAddress } },
        summary,
        (stepInput) => shipping.createShipment.executeWithOptions({ summary }, [stepInput]),
      );
      if (result.status === 'CANCELLED' && patched(TRUSTED_OUTCOMES_PATCH)) {
        throw stepVoided('createShipment', 'the shipment was already cancelled');
      }
      return result;
    });
    if (shipment.status === 'CREATED')
      state.shipment = { status: 'CREATED', trackingId: shipment.trackingId };

    // Point of no return: the shipment exists, so finishing is the only consistent outcome, even on cancellation.
    await CancellationScope.nonCancellable(async () => {
      await runStep('commitStock', null, () =>
        commit.commitStock.executeWithOptions({ summary: `inventory: commit stock of order ${orderId}` }, [
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
    if (!cancelled && !isStepFailure(err)) throw err;
    const reason = cancelled ? null : reasonOf(err);
    state.failureReason = reason?.message ?? null;
    state.failureCode = reason?.code ?? null;
    log.warn('order compensating', { orderId, cancelled, failureCode: state.failureCode });
    if (colocated && cancelled) {
      // A lost workflow task may have run later steps as local activities before this run saw the cancel (its
      // retry replays without their markers): undo every step before the point of no return. Each is a no-op
      // when its step never ran, and its tombstone voids one that lands late.
      for (const compensation of [releaseStock, refundPayment, cancelShipment]) {
        if (!compensations.has(compensation.step)) compensations.push(compensation);
      }
    }
    // Compensations must finish even if the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      await setClosingStatus('COMPENSATING', `undoing ${compensations.size} step(s) in reverse`);
      const onPhase = (step: StepName, phase: StepStatus, error?: string) =>
        markStep(state, step, phase, new Date().toISOString(), error);
      // A compensation that fails for good must not skip the ones after it (sagas started before this stop).
      const keepGoing = (_: Compensation, error: unknown) => {
        if (!isStepFailure(error) || !patched(TRUSTED_OUTCOMES_PATCH)) throw error;
      };
      let failed = await compensations.runAll(onPhase, keepGoing);
      while (failed.length > 0) {
        awaitingOperator = failed.map((compensation) => compensation.step);
        log.error('compensation failed for good; waiting for an operator', {
          orderId,
          steps: awaitingOperator,
        });
        await setClosingStatus(
          'COMPENSATION_FAILED',
          `compensation of ${awaitingOperator.join(', ')} failed: run the retryCompensations or resolveCompensations update`,
        );
        await condition(() => operatorDecision !== undefined);
        const decision = operatorDecision as OperatorDecision;
        operatorDecision = undefined;
        if (decision.kind === 'resolve') {
          for (const step of awaitingOperator)
            onPhase(step, 'COMPENSATED', `resolved by an operator: ${decision.note}`);
          awaitingOperator = [];
          break;
        }
        awaitingOperator = [];
        for (const step of state.steps) {
          if (failed.some((compensation) => compensation.step === step.name)) step.error = null;
        }
        await setClosingStatus('COMPENSATING', `retrying ${failed.length} failed compensation(s)`);
        const retry = new CompensationStack();
        for (const compensation of [...failed].reverse()) retry.push(compensation);
        failed = await retry.runAll(onPhase, keepGoing);
      }
      await setClosingStatus(cancelled ? 'CANCELLED' : 'FAILED', 'done');
    });
    return state;
  }
}
