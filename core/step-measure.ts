/**
 * How a worker measures the steps one activity runs inside another (the colocated worker's `announceAndRun`: a
 * status write and a step). The activity metrics interceptor binds a measure for the attempt; each inner step is
 * then timed and counted under its own activity and service, as if Temporal had run it alone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Times and counts one inner step under `activity`, returning what it returns. */
export type StepMeasure = <T>(activity: string, run: () => Promise<T>) => Promise<T>;

const currentMeasure = new AsyncLocalStorage<StepMeasure>();

/** Runs `fn` (an activity attempt) with `measure` bound for the steps it runs. */
export function withStepMeasure<T>(measure: StepMeasure, fn: () => Promise<T>): Promise<T> {
  return currentMeasure.run(measure, fn);
}

/** Runs one inner step, measured when a worker bound a measure (unmeasured in tests that call it directly). */
export function measuredStep<T>(activity: string, run: () => Promise<T>): Promise<T> {
  const measure = currentMeasure.getStore();
  return measure ? measure(activity, run) : run();
}
