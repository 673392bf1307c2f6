/** The saga's business and step metrics (prom-client), registered once per registry; see docs/OBSERVABILITY.md. */
import { Counter, collectDefaultMetrics, Histogram, type Registry } from 'prom-client';
import { exemplarsIn, newRegistry, observeWithExemplar } from '../core/exemplars.js';
import type { SagaEvent, SagaEventSink } from '../core/saga-events.js';

/** Every saga metric a worker process exports. */
export interface SagaMetrics {
  ordersStarted: Counter;
  ordersFinished: Counter<'outcome' | 'reason'>;
  orderDuration: Histogram<'outcome'>;
  activityDuration: Histogram<'service' | 'activity' | 'outcome'>;
  activityFailures: Counter<'service' | 'activity' | 'retryable' | 'type'>;
  activityOverruns: Counter<'service' | 'activity'>;
  activityAbandoned: Counter<'service' | 'activity'>;
  compensations: Counter<'service' | 'activity'>;
  compensationFailures: Counter<'service' | 'activity'>;
  compensationsStuck: Counter;
}

/** A registry for a process that has none yet, with Node.js process metrics (`process_*`, `nodejs_*`). */
export function createProcessRegistry(): Registry {
  const registry = newRegistry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

const byRegistry = new WeakMap<Registry, SagaMetrics>();

/** The saga metrics of `registry`, created on first use (a process may start its workers more than once). */
export function sagaMetricsIn(registry: Registry): SagaMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: SagaMetrics = {
    ordersStarted: new Counter({
      name: 'saga_orders_started_total',
      help: 'Orders whose row the orders service created (a retried create is not counted)',
      registers,
    }),
    ordersFinished: new Counter({
      name: 'saga_orders_finished_total',
      help: 'Orders that reached a terminal status, by outcome (completed, failed, cancelled) and failure reason',
      labelNames: ['outcome', 'reason'],
      registers,
    }),
    orderDuration: new Histogram({
      name: 'saga_order_duration_seconds',
      help: 'Time from order acceptance to its terminal status, by outcome',
      labelNames: ['outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
      enableExemplars: exemplarsIn(registry),
    }),
    activityDuration: new Histogram({
      name: 'saga_activity_duration_seconds',
      help: 'Execution time of one activity attempt, by service, activity and outcome (success, failure, cancelled)',
      labelNames: ['service', 'activity', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
      enableExemplars: exemplarsIn(registry),
    }),
    activityFailures: new Counter({
      name: 'saga_activity_failures_total',
      help: 'Failed activity attempts, by service, activity, whether Temporal retries it, and error type',
      labelNames: ['service', 'activity', 'retryable', 'type'],
      registers,
    }),
    activityOverruns: new Counter({
      name: 'saga_activity_overruns_total',
      help: 'Activity attempts still running past their start-to-close timeout plus a margin (Temporal has retried them elsewhere; the attempt holds a slot), by service and activity',
      labelNames: ['service', 'activity'],
      registers,
    }),
    activityAbandoned: new Counter({
      name: 'saga_activity_attempts_abandoned_total',
      help: 'Activity attempts the worker ended at their start-to-close timeout while their work still ran (Temporal retries them), by service and activity',
      labelNames: ['service', 'activity'],
      registers,
    }),
    compensations: new Counter({
      name: 'saga_compensations_total',
      help: 'Compensations that took effect (a retry that finds its work done is not counted), by service and activity',
      labelNames: ['service', 'activity'],
      registers,
    }),
    compensationFailures: new Counter({
      name: 'saga_compensation_failures_total',
      help: 'Failed compensation attempts (each is retried until it succeeds), by service and activity',
      labelNames: ['service', 'activity'],
      registers,
    }),
    compensationsStuck: new Counter({
      name: 'saga_orders_compensation_failed_total',
      help: 'Orders moved to COMPENSATION_FAILED: a compensation failed for good and waits for an operator',
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

/** Turns the business events activities report into order metrics. */
export function sagaEventMetrics(metrics: SagaMetrics): SagaEventSink {
  return {
    record(event: SagaEvent) {
      if (event.kind === 'orderStarted') {
        metrics.ordersStarted.inc();
        return;
      }
      if (event.kind === 'compensationStuck') {
        metrics.compensationsStuck.inc();
        return;
      }
      const labels = event.reason
        ? { outcome: event.outcome, reason: event.reason }
        : { outcome: event.outcome };
      metrics.ordersFinished.inc(labels);
      observeWithExemplar(metrics.orderDuration, { outcome: event.outcome }, event.durationSeconds);
    },
  };
}
