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
