/** Timeouts and retry policies of the saga's activities (pure constants, safe in workflow code). */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Forward steps: transient errors (timeouts, resets, injected faults) retry with backoff and no attempt limit,
 * so they never become an order failure; business failures are thrown non-retryable by the activities.
 */
export const FORWARD_STEP_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/** Compensations retry every error until they succeed; a stuck one shows as a pending activity with attempts. */
export const COMPENSATION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [],
  },
};

/** Orders bookkeeping (row and status writes) on the orders service's own queue. */
export const BOOKKEEPING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};

/**
 * The same bookkeeping as local activities in the orders worker (which hosts the saga): no round trip through the
 * server per status write. Retries past `localRetryThreshold` back off with durable timers.
 */
export const LOCAL_BOOKKEEPING_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};

/** Patch id of the switch to local bookkeeping; runs started before it replay with remote bookkeeping. */
export const LOCAL_BOOKKEEPING_PATCH = 'orders-local-bookkeeping';

/**
 * Patch id of trustworthy outcomes: a failed compensation no longer stops the others (the order waits in
 * COMPENSATION_FAILED for an operator), a step whose tombstone won ends the order, and a failed first write still
 * ends it terminal. Called only where behaviour differs, so histories of ordinary orders carry no marker.
 */
export const TRUSTED_OUTCOMES_PATCH = 'orders-trusted-outcomes';

/**
 * The service steps of a colocated order, as local activities in the process that runs the saga: the forward
 * steps' policy, with retries past a short threshold backing off on durable timers (so a cancel or a query gets a
 * workflow task between attempts rather than waiting behind them).
 */
export const LOCAL_STEP_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: FORWARD_STEP_OPTIONS.startToCloseTimeout,
  localRetryThreshold: '2 seconds',
  ...(FORWARD_STEP_OPTIONS.retry ? { retry: FORWARD_STEP_OPTIONS.retry } : {}),
};

/** Compensations of a colocated order: the compensations' policy as local activities. */
export const LOCAL_COMPENSATION_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: COMPENSATION_OPTIONS.startToCloseTimeout,
  localRetryThreshold: '2 seconds',
  ...(COMPENSATION_OPTIONS.retry ? { retry: COMPENSATION_OPTIONS.retry } : {}),
};

/**
 * Workflow task timeout of a colocated order. Its steps run inside one workflow task, which the worker heartbeats
 * at 80 % of this; only then does a cancel or a query reach a saga whose step is slow, so it is kept short.
 */
export const COLOCATED_WORKFLOW_TASK_TIMEOUT = '3 seconds';

/**
 * Patch id of the lean saga: the first status write records the order (no separate `createOrderRecord`), and the
 * PENDING search attribute the client set at start is not upserted again; it implies local bookkeeping, so a lean
 * run carries no local-bookkeeping marker (each patch costs a marker and a change-version upsert). Colocated
 * orders (always lean, never patched: the shape exists only in this form) also skip the upserts
 * of the forward statuses, which pass inside one workflow task (visibility would only ever see the last).
 */
export const LEAN_SAGA_PATCH = 'orders-lean-saga';
