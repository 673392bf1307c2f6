/** Activity interceptor of every worker: times each attempt, counts failures and compensations, binds the event sink. */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ColocatedActivities } from '../contracts/colocated.js';
import type { InventoryActivities } from '../contracts/inventory.js';
import type { PaymentsActivities } from '../contracts/payments.js';
import type { ServiceName } from '../contracts/services.js';
import type { ShippingActivities } from '../contracts/shipping.js';
import { observeWithExemplar } from '../core/exemplars.js';
import { withSagaEventSink } from '../core/saga-events.js';
import { type StepMeasure, withStepMeasure } from '../core/step-measure.js';
import { failureType } from '../core/trace-context.js';
import { type SagaMetrics, sagaEventMetrics } from './metrics.js';

type ActivityName = keyof InventoryActivities | keyof PaymentsActivities | keyof ShippingActivities;

/** Activities that undo a saga step; the saga runs them in reverse and retries them until they succeed. */
export const COMPENSATION_ACTIVITIES: ReadonlySet<string> = new Set<ActivityName>([
  'releaseStock',
  'refundPayment',
  'cancelShipment',
]);

/** Activities that run other activities' steps (each measured as its own; see core/step-measure.ts). */
export const COMPOSITE_ACTIVITIES: ReadonlySet<string> = new Set<keyof ColocatedActivities>([
  'announceAndRun',
]);

/**
 * How long past its start-to-close timeout an attempt may still run before it counts as overrun: the SDK's own local
 * timeout fires 5 s after the server's, and an attempt may take a moment to notice.
 */
export const OVERRUN_MARGIN_MS = 5_000;

/** Failure type of an attempt the worker gave up at its start-to-close timeout (Temporal retries it). */
export const ATTEMPT_ABANDONED = 'AttemptAbandoned';

/** Whether Temporal retries an attempt that threw `error` (a non-retryable ApplicationFailure ends the activity). */
function isRetryable(error: unknown): boolean {
  return !(error instanceof ApplicationFailure && error.nonRetryable);
}

/** False only for a result that says its work had already been done (a retry after a lost completion). */
function tookEffect(result: unknown): boolean {
  return (result as { changed?: unknown } | null)?.changed !== false;
}

/**
 * Measures every activity attempt of one service's worker (or of the colocated worker, labelled by each activity's
 * service). Each attempt is observed exactly once, after it ran,
 * in the process that ran it; activities never replay, so nothing here can count twice for one attempt.
 */
export function activityMetricsInterceptor(
  serviceOf: ServiceName | ((activity: string) => ServiceName),
  metrics: SagaMetrics,
): ActivityInterceptorsFactory {
  const events = sagaEventMetrics(metrics);
  const serviceFor = (activity: string) =>
    typeof serviceOf === 'function' ? serviceOf(activity) : serviceOf;
  return (ctx) => {
    /** Times one attempt (or one inner step) of `activity` and counts its outcome, under the activity's service. */
    const measure: StepMeasure = async (activity, run) => {
      const service = serviceFor(activity);
      const compensation = COMPENSATION_ACTIVITIES.has(activity);
      const started = process.hrtime.bigint();
      const observe = (outcome: 'success' | 'failure' | 'cancelled') =>
        observeWithExemplar(
          metrics.activityDuration,
          { service, activity, outcome },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      try {
        const result = await run();
        observe('success');
        if (compensation && tookEffect(result)) metrics.compensations.inc({ service, activity });
        return result;
      } catch (error) {
        if (error instanceof CancelledFailure || ctx.cancellationSignal.aborted) {
          observe('cancelled');
          throw error;
        }
        observe('failure');
        metrics.activityFailures.inc({
          service,
          activity,
          retryable: String(isRetryable(error)),
          type: failureType(error),
        });
        if (compensation) metrics.compensationFailures.inc({ service, activity });
        throw error;
      }
    };
    /**
     * An attempt still running 5 s after its timeout, although `abandonAtTimeout` ends it then: an event loop blocked
     * for seconds, or that guard broken. Logged (the chaos run counts these lines) and counted; should stay at zero.
     */
    const watchOverrun = (activity: string): (() => void) => {
      const timeoutMs = ctx.info.startToCloseTimeoutMs;
      if (!timeoutMs) return () => {};
      const started = Date.now();
      const timer = setTimeout(() => {
        const service = serviceFor(activity);
        metrics.activityOverruns.inc({ service, activity });
        ctx.log.warn('activity attempt overran its start-to-close timeout', {
          activity,
          attempt: ctx.info.attempt,
          timeoutMs,
          runningMs: Date.now() - started,
        });
      }, timeoutMs + OVERRUN_MARGIN_MS);
      timer.unref();
      return () => clearTimeout(timer);
    };
    /**
     * Ends the attempt at its start-to-close timeout even if its work has not: by then Temporal has timed it out and
     * scheduled a retry, so holding the slot (and waiting, e.g., for a pool connection the database cannot give)
     * only starves the worker. The work may still finish later; every step is idempotent and every late landing
     * voided by its tombstone, so that is harmless. Logged and counted (saga_activity_attempts_abandoned_total).
     */
    const abandonAtTimeout = <T>(activity: string, work: Promise<T>): Promise<T> => {
      const timeoutMs = ctx.info.startToCloseTimeoutMs;
      if (!timeoutMs) return work;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const service = serviceFor(activity);
          metrics.activityAbandoned.inc({ service, activity });
          ctx.log.warn(
            'activity attempt abandoned at its start-to-close timeout; its work may still finish',
            {
              activity,
              attempt: ctx.info.attempt,
              timeoutMs,
            },
          );
          // Its outcome no longer matters to anyone: keep a late failure from becoming an unhandled rejection.
          work.catch(() => {});
          reject(
            ApplicationFailure.create({
              type: ATTEMPT_ABANDONED,
              message: `${activity}: attempt abandoned at its start-to-close timeout (${timeoutMs} ms)`,
            }),
          );
        }, timeoutMs);
      });
      return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
    };
    return {
      inbound: {
        async execute(input, next) {
          const activity = ctx.info.activityType;
          const run = () => withSagaEventSink(events, () => next(input));
          const stopWatching = watchOverrun(activity);
          try {
            // An activity made of other services' steps is measured step by step, not as itself.
            const work = COMPOSITE_ACTIVITIES.has(activity)
              ? withStepMeasure(measure, run)
              : measure(activity, run);
            return await abandonAtTimeout(activity, work);
          } finally {
            stopWatching();
          }
        },
      },
    };
  };
}
