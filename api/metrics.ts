/** HTTP metrics (prom-client): requests and latency by method, route template and status. */
import type { Env, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The API process's metrics registry, with Node.js process metrics. */
export function createApiRegistry(): Registry {
  const registry = new Registry();
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
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/** Mounts `GET /metrics` in the Prometheus text format. */
export function registerMetricsRoute<E extends Env>(app: Hono<E>, registry: Registry) {
  app.get('/metrics', async (c) =>
    c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
}
