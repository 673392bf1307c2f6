/**
 * The API's server span of every request (`@hono/otel`: `POST /v1/orders` with `http.route` and the status, a
 * client's `traceparent` honoured as the parent) and the trace id on every answer, so a client can quote it.
 */
import { httpInstrumentationMiddleware } from '@hono/otel';
import type { MiddlewareHandler } from 'hono';
import { activeTraceIds } from '../../core/trace-context.js';

/** Header carrying the trace id (32 hex digits) of a traced request's answer. */
export const TRACE_ID_HEADER = 'X-Trace-Id';
/** The W3C header of the request's span, on answers too, so a client can continue the trace. */
export const TRACEPARENT_HEADER = 'traceparent';

/** The server span of each request; answers of sampled requests carry `X-Trace-Id` and `traceparent`. */
export function traceRequests(): MiddlewareHandler {
  const instrument = httpInstrumentationMiddleware({ captureActiveRequests: false });
  return (c, next) =>
    instrument(c, async () => {
      await next();
      const ids = activeTraceIds();
      if (!('trace_id' in ids)) return;
      // Set after the handler: problem+json and onError answers are built without the headers set before them.
      c.res.headers.set(TRACE_ID_HEADER, ids.trace_id);
      c.res.headers.set(TRACEPARENT_HEADER, `00-${ids.trace_id}-${ids.span_id}-01`);
    });
}
