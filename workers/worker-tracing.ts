/**
 * What tracing adds to a worker (core/tracing.ts): Temporal's OpenTelemetry activity interceptors (a
 * `RunActivity:<name>` span per attempt, local activities too, trace ids on activity log lines) and the sink the
 * workflow interceptors, compiled into the workflow bundle, hand their spans to. The workflow side replays
 * cleanly: the sink is not called during replay and span ids do not enter the history.
 */
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { failureType } from '../core/trace-context.js';
import type { Tracing } from '../core/tracing.js';

/** The workflow interceptor module (Temporal's OpenTelemetry interceptors behind a patch): in every bundle. */
export const WORKFLOW_TRACING_MODULE = fileURLToPath(
  new URL('../workflows/tracing-interceptors.ts', import.meta.url),
);

/**
 * The activity interceptors of a traced worker: Temporal's `RunActivity:<name>` span per attempt (its status ERROR
 * when the attempt failed), then on that span the order, the attempt number (a retry is a span of its own) and
 * the failure's business type (`PaymentDeclined`, not just `ApplicationFailure`).
 */
export function tracingActivityInterceptors(): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    (ctx) => ({
      inbound: {
        async execute(input, next) {
          const span = trace.getActiveSpan();
          const orderId = (input.args[0] as { orderId?: unknown } | undefined)?.orderId;
          if (typeof orderId === 'string') span?.setAttribute('order.id', orderId);
          span?.setAttribute('temporal.activity.attempt', ctx.info.attempt);
          span?.setAttribute('temporal.activity.local', ctx.info.isLocal);
          try {
            return await next(input);
          } catch (error) {
            span?.setAttribute('error.type', failureType(error));
            throw error;
          }
        },
      },
    }),
  ];
}

/**
 * Sinks every worker that hosts workflows registers: the workflows' spans go to the process's span processor, or
 * nowhere with tracing off (the interceptors are in the bundle either way, and an unregistered sink is an error).
 */
export function workflowTracingSinks(tracing: Tracing | undefined): InjectedSinks<Record<string, never>> {
  if (tracing?.enabled) {
    return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) } as never;
  }
  return { exporter: { export: { fn: () => {} } } } as never;
}
