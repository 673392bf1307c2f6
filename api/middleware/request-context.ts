/** Per-request hardening: a request id (accepted or generated, echoed, logged) and browser security headers. */
import type { Context, MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from '../../core/logger.js';

/** Header carrying the request id both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Variables set by {@link requestContext}. */
export interface RequestIdVariables {
  requestId: string;
}

/** The request id of a request (empty outside the middleware, e.g. in unit tests of a handler). */
export function requestIdOf(c: Context): string {
  return (c.get('requestId') as string | undefined) ?? '';
}

/**
 * Accepts a client's `X-Request-Id` (up to 128 word characters, `-` or `=`), otherwise generates one; echoes it on
 * every answer, problems and errors included, and logs each request at debug level with it.
 */
export function requestContext(logger: Logger): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  const assign = requestId({ headerName: REQUEST_ID_HEADER, limitLength: 128 });
  return async (c, next) => {
    const started = performance.now();
    await assign(c, async () => {
      await next();
    });
    const id = c.get('requestId');
    // Responses built outside Hono's helpers (problem+json, onError) do not carry headers set before them.
    c.res.headers.set(REQUEST_ID_HEADER, id);
    logger.debug(
      {
        requestId: id,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  };
}

/**
 * Security headers on every answer. The CSP allows only this origin's scripts, styles and fetches: the docs page
 * loads Swagger UI from local files and its init from a separate script, so neither inline scripts nor inline
 * styles are needed (checked in headless Chromium: no violation, try-it-out works).
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
  });
}
