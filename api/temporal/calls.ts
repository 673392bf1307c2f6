/** Bounded Temporal RPCs: every call made for a request has a deadline, and long polls can be aborted. */
import { type Client, isGrpcServiceError, ServiceError } from '@temporalio/client';

/** gRPC codes meaning "Temporal cannot answer right now" (the request itself was fine). */
const UNAVAILABLE_CODES = new Set([
  1 /* CANCELLED: our own abort or deadline */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */,
  14 /* UNAVAILABLE */,
]);

/** Runs client calls under a deadline (and an optional abort signal) so an outage cannot hang a request. */
export class TemporalCalls {
  constructor(
    readonly client: Client,
    readonly timeoutMs: number,
  ) {}

  /** Runs `fn` with every RPC inside it bounded by `timeoutMs` (default: the configured one). */
  run<T>(fn: () => Promise<T>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    const { signal } = options;
    return this.client.withDeadline(deadline, () =>
      signal ? this.client.withAbortSignal(signal, fn) : fn(),
    );
  }
}

/** True when an error (or one of its causes) says Temporal is unreachable, overloaded or too slow. */
export function isTemporalUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cause: unknown = err; cause && !seen.has(cause); cause = (cause as { cause?: unknown }).cause) {
    seen.add(cause);
    if (isGrpcServiceError(cause) && UNAVAILABLE_CODES.has(cause.code)) return true;
    if (cause instanceof ServiceError && /unavailable|failed to connect|deadline/i.test(cause.message)) {
      return true;
    }
  }
  return false;
}
