/**
 * The HTTP API as a value: the cross-cutting middleware (request ids, security headers, metrics, load shedding, auth
 * under `/v1`), then each resource's router mounted with `app.route()`, then the OpenAPI document, 404/405 and errors.
 */

import type { Client, Connection } from '@temporalio/client';
import type { Registry } from 'prom-client';
import { type ApiSettings, DEFAULT_API_SETTINGS } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/client.js';
import { countAwaitingOperator } from '../db/queries/orders.js';
import { type CodecServerDeps, codecRouter } from './codec/routes.js';
import { asyncApiRouter } from './docs/asyncapi.js';
import { serveOpenApiDocument } from './docs/openapi-document.js';
import { documentOperationalRoutes } from './docs/operational-routes.js';
import { swaggerUiRouter } from './docs/swagger-ui.js';
import type { GraphGateway } from './graphql/gateway.js';
import { graphRouter } from './graphql/routes.js';
import { type AuthConfig, requireKey } from './middleware/auth.js';
import { StreamSlots, shedLoad } from './middleware/load-shedding.js';
import { allowedMethodsOf } from './middleware/method-not-allowed.js';
import { requestContext, securityHeaders } from './middleware/request-context.js';
import { traceRequests } from './middleware/tracing.js';
import { healthRouter } from './operations/health.js';
import {
  createApiRegistry,
  httpMetrics,
  metricsRouter,
  registerEventStreamGauge,
  registerOrderGauges,
} from './operations/metrics.js';
import { orderEventsRouter } from './orders/event-routes.js';
import { OrdersGateway } from './orders/gateway.js';
import { OrderEventReader, type OrderEventsSource } from './orders/order-events.js';
import { ordersRouter } from './orders/routes.js';
import { handleError } from './problems/error-handler.js';
import { ProblemError, problemResponse } from './problems/problem.js';
import { productsRouter } from './products/routes.js';
import { createRouter } from './router.js';
import { TemporalCalls } from './temporal/calls.js';

/** What the API needs from its process: Temporal, the database, auth, logs and optional settings. */
export interface ApiDeps {
  temporal: Client;
  db: Database;
  pingDatabase(): Promise<void>;
  auth: AuthConfig;
  logger: Logger;
  /** Metrics registry of the process; a fresh one (with process metrics) when omitted. */
  registry?: Registry;
  /** API-only settings (timeouts, Retry-After, cursor key); defaults when omitted. */
  settings?: Partial<ApiSettings>;
  /** The codec server (`/codec/*`); omitted when encryption or codec access is off. */
  codec?: CodecServerDeps;
  /** Where order events are read (the process's NATS client); omitted when NATS_URL is unset (the route answers 503). */
  events?: OrderEventsSource;
  /** Whether the process traces (core/tracing.ts): a server span per request and the trace id on answers. */
  tracing?: boolean;
  /** The federated graph at /graphql; without it /graphql answers 503 (the graph is off). */
  graph?: { gateway: GraphGateway | undefined; development: boolean };
  /** Aborted when the server shuts down: open event streams end, so the server can close. */
  shutdown?: AbortSignal;
}

/** Builds the API; tests call `app.request()` on it, the server entry serves it. */
export function createApp(deps: ApiDeps) {
  const settings: ApiSettings = { ...DEFAULT_API_SETTINGS, ...deps.settings };
  const app = createRouter();
  const gateway = new OrdersGateway(new TemporalCalls(deps.temporal, settings.temporalTimeoutMs), deps.db, {
    placement: settings.placement,
  });
  const registry = deps.registry ?? createApiRegistry();

  // Registered before the routers are mounted, so they run first on every route of them.
  if (deps.tracing) app.use('*', traceRequests());
  app.use('*', requestContext(deps.logger));
  app.use('*', securityHeaders());
  app.use('*', httpMetrics(registry));
  // One bound on requests in flight for both front doors.
  const shed = shedLoad(settings.maxInFlight, settings.retryAfterSeconds);
  app.use('/v1/*', shed);
  app.use('/v1/*', requireKey(deps.auth, 'client'));
  app.use('/graphql', shed);

  registerOrderGauges(registry, () => countAwaitingOperator(deps.db));
  const eventStreams = new StreamSlots(settings.maxEventStreams, settings.retryAfterSeconds);
  registerEventStreamGauge(registry, () => eventStreams.count);
  // `route()` copies a router's routes and OpenAPI entries at the time of the call: mount finished routers only.
  app.route('/', metricsRouter(registry));
  app.route('/', swaggerUiRouter());
  app.route('/', asyncApiRouter());
  app.route(
    '/',
    healthRouter({
      temporal: deps.temporal.connection as Connection,
      pingDatabase: deps.pingDatabase,
      retryAfterSeconds: settings.retryAfterSeconds,
      exposeErrorDetails: settings.exposeErrorDetails,
      logger: deps.logger,
    }),
  );
  app.route('/', ordersRouter({ gateway, db: deps.db, cursorSecret: settings.cursorSecret }));
  app.route(
    '/',
    orderEventsRouter({
      gateway,
      db: deps.db,
      events: deps.events
        ? new OrderEventReader(deps.events, { timeoutMs: settings.temporalTimeoutMs, logger: deps.logger })
        : undefined,
      streams: eventStreams,
      logger: deps.logger,
      ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
    }),
  );
  app.route('/', productsRouter({ db: deps.db, auth: deps.auth }));
  app.route(
    '/',
    graphRouter({
      gateway: deps.graph?.gateway,
      auth: deps.auth,
      development: deps.graph?.development ?? false,
    }),
  );
  if (deps.codec && deps.codec.settings.access !== 'off')
    app.route('/', codecRouter(deps.codec, deps.logger));
  // The document is the root's: it lists what the routers brought plus the routes served outside zod-openapi.
  documentOperationalRoutes(app);
  serveOpenApiDocument(app);

  const allowedMethods = allowedMethodsOf(app);
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      return problemResponse(
        c,
        new ProblemError('method-not-allowed', `${c.req.path} does not support ${c.req.method}`, {
          headers: { allow: allow.join(', ') },
        }),
      );
    }
    return problemResponse(c, new ProblemError('not-found', `No route ${c.req.method} ${c.req.path}`));
  });
  app.onError(handleError(deps.logger, settings.retryAfterSeconds));
  return app;
}
