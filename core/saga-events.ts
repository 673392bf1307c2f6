/**
 * Business events an activity is certain of (it inserted the order row, it wrote a terminal status), reported to
 * whatever hosts the activity. The worker binds a sink around each execution and turns events into metrics, so
 * activity code needs no metrics library and counts only what its own database write proved happened.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** How an order ended, as counted by `saga_orders_finished_total`. */
export type OrderOutcome = 'completed' | 'failed' | 'cancelled';

/** Something that happened exactly once to an order, as proven by a database write. */
export type SagaEvent =
  | { kind: 'orderStarted'; orderId: string }
  /** A compensation failed for good: the order waits in COMPENSATION_FAILED for an operator. */
  | { kind: 'compensationStuck'; orderId: string }
  | {
      kind: 'orderFinished';
      orderId: string;
      outcome: OrderOutcome;
      /** Bounded failure code (`OutOfStock`, `PaymentDeclined`, ..., `other`); null unless failed. */
      reason: string | null;
      /** From the order's creation (accepted by the API) to its terminal status write. */
      durationSeconds: number;
    };

/** Receives the events of one activity execution. */
export interface SagaEventSink {
  record(event: SagaEvent): void;
}

const currentSink = new AsyncLocalStorage<SagaEventSink>();

/** Runs `fn` with `sink` receiving every event recorded inside it (the worker's activity interceptor does this). */
export function withSagaEventSink<T>(sink: SagaEventSink, fn: () => T): T {
  return currentSink.run(sink, fn);
}

/** Reports an event to the sink of the current execution; a no-op where nobody listens (unit tests). */
export function recordSagaEvent(event: SagaEvent): void {
  currentSink.getStore()?.record(event);
}
