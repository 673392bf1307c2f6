/** The HTTP API as a value: a factory that wires routes, auth, limits and problem+json errors. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client, Connection } from '@temporalio/client';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Registry } from 'prom-client';
import type { ZodError } from 'zod';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/client.js';
import { type AuthConfig, type AuthVariables, requireKey } from './auth.js';
import { createApiRegistry, httpMetrics, registerMetricsRoute } from './metrics.js';
import { OrdersGateway } from './orders-gateway.js';
import { ProblemError, problemResponse } from './problem.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOrderRoutes } from './routes/orders.js';
import { registerProductRoutes } from './routes/products.js';
import { ORDER_LIMITS } from './schemas.js';

export interface ApiDeps {
  temporal: Client;
  db: Database;
  pingDatabase(): Promise<void>;
  auth: AuthConfig;
  logger: Logger;
  /** Metrics registry of the process; a fresh one (with process metrics) when omitted. */
  registry?: Registry;
}

/** Seconds a client should wait before retrying when a dependency is down. */
const RETRY_AFTER_SECONDS = '5';
/** gRPC codes meaning "Temporal is not reachable right now". */
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

function fieldErrors(error: ZodError) {
  return error.issues.map((issue) => ({
    path: issue.path.join('.') || '(body)',
    message: issue.message,
  }));
}

function isTemporalUnavailable(err: unknown): boolean {
  for (let cause: unknown = err; cause; cause = (cause as { cause?: unknown }).cause) {
    if (isGrpcServiceError(cause) && UNAVAILABLE_CODES.has(cause.code)) return true;
    if (cause instanceof ServiceError && /unavailable|connect|deadline/i.test(cause.message)) return true;
    if (cause === (cause as { cause?: unknown }).cause) break;
  }
  return false;
}

/** Builds the API; tests call `app.request()` on it, the server entry serves it. */
export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({
    defaultHook: (result) => {
      if (result.success) return;
      const isBody = result.target === 'json';
      throw new ProblemError(
        isBody ? 422 : 400,
        'validation',
        isBody ? 'Invalid request body' : `Invalid ${result.target}`,
        `The ${isBody ? 'body' : result.target} did not match the schema; see errors`,
        { errors: fieldErrors(result.error) },
      );
    },
  });
  const gateway = new OrdersGateway(deps.temporal, deps.db);
  const registry = deps.registry ?? createApiRegistry();

  app.use('*', httpMetrics(registry));

  app.use('/v1/*', async (c, next) => {
    const length = c.req.header('content-length');
    const hasBody =
      (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    if (hasBody && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported content type',
        'Send the body as application/json',
      );
    }
    return next();
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: ORDER_LIMITS.maxBodyBytes,
      onError: () => {
        throw new ProblemError(
          413,
          'body-too-large',
          'Body too large',
          `Bodies are limited to ${ORDER_LIMITS.maxBodyBytes} bytes`,
        );
      },
    }),
  );
  app.use('/v1/*', requireKey(deps.auth, 'client'));

  registerMetricsRoute(app, registry);
  registerDocsRoutes(app);
  registerHealthRoutes(app, {
    temporal: deps.temporal.connection as Connection,
    pingDatabase: deps.pingDatabase,
  });
  registerOrderRoutes(app, gateway);
  registerProductRoutes(app, deps.db, deps.auth);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Order saga API',
      version: '1.0.0',
      description:
        'Orders run as Temporal sagas across inventory, payments and shipping. Errors are RFC 9457 problem+json.',
    },
    security: [{ bearer: [] }],
  });

  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError(404, 'not-found', 'Not found', `No route ${c.req.method} ${c.req.path}`),
    ),
  );
  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (err instanceof HTTPException && err.status === 400) {
      return problemResponse(
        c,
        new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON'),
      );
    }
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(c, new ProblemError(err.status, 'bad-request', 'Bad request', err.message));
    }
    if (isTemporalUnavailable(err)) {
      deps.logger.warn({ err: { message: (err as Error).message } }, 'temporal unavailable');
      return problemResponse(
        c,
        new ProblemError(
          503,
          'temporal-unavailable',
          'Service unavailable',
          'The workflow engine is unreachable; retry later',
          {
            headers: { 'retry-after': RETRY_AFTER_SECONDS },
          },
        ),
      );
    }
    deps.logger.error({ err, path: c.req.path, method: c.req.method }, 'unhandled error');
    return problemResponse(
      c,
      new ProblemError(500, 'internal', 'Internal error', 'An unexpected error occurred; it has been logged'),
    );
  });
  return app;
}
