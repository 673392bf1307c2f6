/** HTTP metrics (prom-client): requests and latency by method, route template and status. */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';
import { exemplarsIn, newRegistry, observeWithExemplar } from '../../core/exemplars.js';
import { createRouter } from '../router.js';

/** The API process's metrics registry, with Node.js process metrics. */
export function createApiRegistry(): Registry {
  const registry = newRegistry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Counts and times every request; the label is the matched route template so cardinality stays bounded. */
export function httpMetrics(registry: Registry): MiddlewareHandler {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
    enableExemplars: exemplarsIn(registry),
  });
  return async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = routePath(c, -1);
      const route = matched && matched !== '/*' && !matched.endsWith('*') ? matched : 'unmatched';
      const labels = { method: c.req.method, route, status: String(c.res.status) };
      requests.inc(labels);
      observeWithExemplar(duration, labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/** `GET /metrics` in the Prometheus text format (OpenMetrics, with exemplars, when the process traces) (its OpenAPI entry is in api/docs/operational-routes.ts). */
export function metricsRouter(registry: Registry) {
  const router = createRouter();
  router.get('/metrics', async (c) =>
    c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  return router;
}

/** Name of the gauge of orders held for an operator (a compensation failed for good); alerts watch it. */
export const AWAITING_OPERATOR_METRIC = 'saga_orders_awaiting_operator';

/**
 * Orders in COMPENSATION_FAILED right now, counted from the orders service's records at each scrape (one index
 * lookup), so the figure survives restarts and is the same whichever API replica is scraped.
 */
export function registerOrderGauges(registry: Registry, countAwaitingOperator: () => Promise<number>): void {
  if (registry.getSingleMetric(AWAITING_OPERATOR_METRIC)) return;
  new Gauge({
    name: AWAITING_OPERATOR_METRIC,
    help: 'Orders whose compensation failed for good and that wait for an operator (COMPENSATION_FAILED)',
    registers: [registry],
    async collect() {
      // A database outage must not break the whole scrape: the gauge reads NaN (no alert fires on it) meanwhile.
      this.set(await countAwaitingOperator().catch(() => Number.NaN));
    },
  });
}

/** Name of the gauge of order event streams (Server-Sent Events) open on this API process. */
export const EVENT_STREAMS_METRIC = 'api_event_streams_open';

/**
 * Open order event streams against their cap (`API_MAX_EVENT_STREAMS`), read at each scrape. Registered anew by each
 * app, so after an in-process API restart the gauge reads the app that serves.
 */
export function registerEventStreamGauge(registry: Registry, openStreams: () => number): void {
  registry.removeSingleMetric(EVENT_STREAMS_METRIC);
  new Gauge({
    name: EVENT_STREAMS_METRIC,
    help: 'Order event streams (Server-Sent Events) open now; new ones are refused past API_MAX_EVENT_STREAMS',
    registers: [registry],
    collect() {
      this.set(openStreams());
    },
  });
}
