/**
 * Temporal's OpenTelemetry workflow interceptors behind a patch (the module every workflow bundle includes).
 * Tracing changes when a workflow's promises settle (the interceptors wrap each call in a span and await it), so
 * a run recorded without them would not replay with them. `patched(TRACING_PATCH)` at the start of a run decides
 * once: runs started with tracing in the bundle record the marker and are traced; older runs replay untraced,
 * exactly as they ran. Whether spans leave the worker is the worker's configuration (workers/worker-tracing.ts).
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import {
  patched,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The patch that marks a run as started with the tracing interceptors. */
export const TRACING_PATCH = 'otel-tracing-interceptors';

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** Every interceptor method of `target`, calling it only while `traced()`, else straight to `next`. */
function gated<T extends object>(target: T, traced: () => boolean): Partial<T> {
  const gate: Record<string, Method> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    const method = (target as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    gate[name] = (input, next) => (traced() ? (method as Method).call(target, input, next) : next(input));
  }
  return gate as Partial<T>;
}

export const interceptors = (): WorkflowInterceptors => {
  // Undecided until the run starts; a handler that runs before that (none does today) is not traced.
  let traced = false;
  const inbound = new OpenTelemetryInboundInterceptor();
  const tracedInbound = gated<WorkflowInboundCallsInterceptor>(inbound, () => traced);
  return {
    inbound: [
      {
        ...tracedInbound,
        execute(input, next) {
          traced = patched(TRACING_PATCH);
          return traced ? inbound.execute(input, next) : next(input);
        },
      },
    ],
    outbound: [gated<WorkflowOutboundCallsInterceptor>(new OpenTelemetryOutboundInterceptor(), () => traced)],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
