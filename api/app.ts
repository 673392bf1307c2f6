/** The HTTP API as a value: a factory that wires routes, auth, limits and problem+json errors. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client, Connection } from '@temporalio/client';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/client.js';
import { countAwaitingOperator } from '../db/queries/orders.js';
import { type AuthConfig, type AuthVariables, requireKey } from './auth.js';
import { handleError, validationProblem } from './error-handler.js';
import { shedLoad } from './load-shedding.js';
import { allowedMethodsOf } from './method-not-allowed.js';
import { createApiRegistry, httpMetrics, registerMetricsRoute, registerOrderGauges } from './metrics.js';
import { serveOpenApiDocument } from './openapi.js';
import { OrdersGateway } from './orders-gateway.js';
import { ProblemError, problemResponse } from './problem.js';
import { requestContext, securityHeaders } from './request-context.js';
import { type CodecServerDeps, registerCodecRoutes } from './routes/codec.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerHealthRoutes } from './routes/health.js';
import { documentOperationalRoutes } from './routes/operations-docs.js';
import { registerOrderListRoute } from './routes/order-list.js';
import { registerOrderRoutes } from './routes/orders.js';
import { registerProductRoutes } from './routes/products.js';
import { type ApiSettings, DEFAULT_API_SETTINGS } from './settings.js';
import { TemporalCalls } from './temporal-calls.js';

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
}

/** Builds the API; tests call `app.request()` on it, the server entry serves it. */
export function createApp(deps: ApiDeps) {
  const settings: ApiSettings = { ...DEFAULT_API_SETTINGS, ...deps.settings };
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationProblem });
  const gateway = new OrdersGateway(new TemporalCalls(deps.temporal, settings.temporalTimeoutMs), deps.db);
  const registry = deps.registry ?? createApiRegistry();

  app.use('*', requestContext(deps.logger));
  app.use('*', securityHeaders());
  app.use('*', httpMetrics(registry));
  app.use('/v1/*', shedLoad(settings.maxInFlight, settings.retryAfterSeconds));
  app.use('/v1/*', requireKey(deps.auth, 'client'));

  registerOrderGauges(registry, () => countAwaitingOperator(deps.db));
  registerMetricsRoute(app, registry);
  registerDocsRoutes(app);
  registerHealthRoutes(app, {
    temporal: deps.temporal.connection as Connection,
    pingDatabase: deps.pingDatabase,
    retryAfterSeconds: settings.retryAfterSeconds,
    exposeErrorDetails: settings.exposeErrorDetails,
    logger: deps.logger,
  });
  registerOrderListRoute(app, deps.db, settings.cursorSecret);
  registerOrderRoutes(app, gateway);
  registerProductRoutes(app, deps.db, deps.auth);
  if (deps.codec && deps.codec.settings.access !== 'off') registerCodecRoutes(app, deps.codec, deps.logger);
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
