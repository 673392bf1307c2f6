/**
 * The active trace as this project's code sees it (only `@opentelemetry/api`, no SDK): ids for log lines, the
 * `traceparent` to store or send, and how a failed unit of work marks its span. With tracing off every function
 * here is a cheap no-op (no context manager, no recording span).
 */
import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/** Instrumentation scope of this project's own spans (HTTP, database, events). */
export const TRACER_NAME = 'order-saga';

/** The trace and span id of the active span, for log lines; empty when there is none (or tracing is off). */
export function activeTraceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  // Unsampled spans carry ids too, but no backend has them: a log line pointing at them would lead nowhere.
  if ((traceFlags & 1) === 0 || !trace.isSpanContextValid(span.spanContext())) return {};
  return { trace_id: traceId, span_id: spanId };
}

/** The W3C `traceparent` of the active context, or undefined when nothing is being traced. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Ends `span` after `work`, in error (with the failure's type) if it threw. */
export async function inSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed: ERROR status with the message, the exception event, `error.type` (business type if any). */
export function markFailed(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  const type = (err as Error & { type?: unknown }).type;
  span.recordException(err);
  span.setAttribute('error.type', typeof type === 'string' ? type : err.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}
