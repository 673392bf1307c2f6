/** Load shedding: past a bound of requests in progress, answer 503 + Retry-After at once instead of queueing. */
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from '../problems/problem.js';

/** Keeps at most `maxInFlight` requests in progress; the rest are told to come back, so latency stays bounded. */
export function shedLoad(maxInFlight: number, retryAfterSeconds: number): MiddlewareHandler {
  let inFlight = 0;
  return async (_c, next) => {
    if (inFlight >= maxInFlight) {
      throw new ProblemError('overloaded', `More than ${maxInFlight} requests in progress; retry shortly`, {
        headers: { 'retry-after': String(retryAfterSeconds) },
      });
    }
    inFlight += 1;
    try {
      await next();
    } finally {
      inFlight -= 1;
    }
  };
}
