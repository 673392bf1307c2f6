/**
 * The active trace as this project's code sees it (only `@opentelemetry/api`, no SDK): ids for log lines, the
 * `traceparent` to store or send, and how a failed unit of work marks its span. With tracing off every function
 * here is a cheap no-op (no context manager, no recording span).
 */
import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { Tracing } from './tracing.js';

/** Instrumentation scope of this project's own spans (HTTP, database, events). */
export const TRACER_NAME = 'order-saga';

let installed: Tracing | undefined;

/** The process's tracing, once `startTracing` (core/tracing.ts, which loads the SDK) ran. */
export function currentTracing(): Tracing | undefined {
  return installed;
}

/** Records the process's tracing; only `startTracing` calls it. */
export function rememberTracing(tracing: Tracing): Tracing {
  installed = tracing;
  return tracing;
}

/** A bounded name for an error, for spans and metrics: an ApplicationFailure's business type, else its class. */
export function failureType(error: unknown): string {
  if (error instanceof ApplicationFailure) return error.type ?? 'ApplicationFailure';
  return error instanceof Error ? error.name : 'unknown';
}

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
  span.recordException(err);
  span.setAttribute('error.type', failureType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}
