/** Load shedding: past a bound of requests in progress or of open event streams, answer 503 + Retry-After. */
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

/**
 * Caps the long-lived streams of the API (Server-Sent Events of an order's events). They are not counted by
 * `shedLoad`: a streamed answer leaves the middleware once its headers are out, so its `/v1` slot is held only while
 * the stream is being set up. Past `max` open streams a new one is refused with 503 + Retry-After.
 */
export class StreamSlots {
  private open = 0;

  constructor(
    private readonly max: number,
    private readonly retryAfterSeconds: number,
  ) {}

  /** Streams open now. */
  get count(): number {
    return this.open;
  }

  /** Takes a slot, or throws `overloaded`; call the returned function once, when the stream ends. */
  acquire(): () => void {
    if (this.open >= this.max) {
      throw new ProblemError('overloaded', `More than ${this.max} event streams are open; retry shortly`, {
        headers: { 'retry-after': String(this.retryAfterSeconds) },
      });
    }
    this.open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
    };
  }
}
