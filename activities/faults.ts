/** Chaos switch: wraps activities so attempts get extra latency and random transient failures. */
import { setTimeout as sleep } from 'node:timers/promises';
import { wrapActivities } from './wrap-activities.js';

/** How much trouble to inject: failure probability per attempt (0..1) and latency added to every attempt. */
export interface FaultOptions {
  rate: number;
  /** Probability that an attempt fails after the activity did its work, as if the worker died before reporting. */
  afterRate?: number;
  latencyMs: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

/**
 * Wraps every function of `activities`: each attempt first waits `latencyMs`, then throws a plain (retryable)
 * Error with probability `rate`, before the real activity runs. With no rate and no latency, returns the object as is.
 */
export function withFaults<T extends object>(activities: T, options: FaultOptions): T {
  const { rate, afterRate = 0, latencyMs, random = Math.random } = options;
  if (rate <= 0 && afterRate <= 0 && latencyMs <= 0) return activities;
  return wrapActivities(activities, (name, activity) => async (...args) => {
    if (latencyMs > 0) await sleep(latencyMs);
    if (rate > 0 && random() < rate) throw new Error(`injected transient fault in ${name}`);
    const result = await activity(...args);
    if (afterRate > 0 && random() < afterRate) throw new Error(`injected lost completion in ${name}`);
    return result;
  });
}
