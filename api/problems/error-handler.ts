/** Turns every thrown error into a problem+json answer: validation, framework errors, outages (503) and bugs (500). */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { Logger } from '../../core/logger.js';
import { requestIdOf } from '../middleware/request-context.js';
import { isTemporalUnavailable } from '../temporal/calls.js';
import { isDatabaseUnavailable } from './database-errors.js';
import { type FieldError, ProblemError, problemResponse } from './problem.js';

/** Lists every failing field of a zod error with its dotted path. */
export function fieldErrors(error: ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}

/** zod-openapi's validation hook: 422 for the JSON body, 400 for path, query and header parameters. */
export function validationProblem(result: { success: boolean; target: string; error?: ZodError }) {
  // Stryker disable next-line LogicalOperator: zod-openapi gives an error exactly when success is false, so || and && agree
  if (result.success || !result.error) return;
  if (result.target === 'json') {
    throw new ProblemError('validation', 'The body did not match the schema; see errors', {
      errors: fieldErrors(result.error),
    });
  }
  const where = result.target === 'param' ? 'path' : result.target;
  throw new ProblemError('invalid-parameter', `A ${where} parameter is invalid; see errors`, {
    errors: fieldErrors(result.error, where),
  });
}

/**
 * The app's `onError`: known problems as they are, dependency outages as 503, anything else as a logged 500. A 500
 * never carries the error's message or stack (they go to the log, under the request id the client got).
 */
export function handleError(logger: Logger, retryAfterSeconds: number) {
  return (err: Error, c: Context): Response => {
    if (err instanceof ProblemError) {
      if (err.status !== 503 || err.extra.headers?.['retry-after']) return problemResponse(c, err);
      // Every 503 tells the client when to come back.
      const headers = { ...err.extra.headers, 'retry-after': String(retryAfterSeconds) };
      return problemResponse(c, new ProblemError(err.slug, err.detail, { ...err.extra, headers }));
    }
    if (err instanceof HTTPException && err.status === 400) {
      return problemResponse(c, new ProblemError('malformed-json', 'The body is not valid JSON'));
    }
    if (err instanceof HTTPException && err.status === 415) {
      return problemResponse(
        c,
        new ProblemError('unsupported-media-type', 'Send the body as application/json'),
      );
    }
    if (err instanceof HTTPException && err.status === 413) {
      return problemResponse(c, new ProblemError('body-too-large', 'The body is over the size limit'));
    }
    const headers = { 'retry-after': String(retryAfterSeconds) };
    if (isTemporalUnavailable(err)) {
      logger.warn(
        { err: { message: err.message }, path: c.req.path, requestId: requestIdOf(c) },
        'temporal unavailable',
      );
      return problemResponse(
        c,
        new ProblemError('temporal-unavailable', 'The workflow engine is unreachable; retry later', {
          headers,
        }),
      );
    }
    if (isDatabaseUnavailable(err)) {
      logger.warn(
        { err: { message: err.message }, path: c.req.path, requestId: requestIdOf(c) },
        'database unavailable',
      );
      return problemResponse(
        c,
        new ProblemError('database-unavailable', 'The database is unreachable; retry later', { headers }),
      );
    }
    logger.error(
      { err, path: c.req.path, method: c.req.method, requestId: requestIdOf(c) },
      'unhandled error',
    );
    return problemResponse(
      c,
      new ProblemError('internal', 'An unexpected error occurred; it has been logged'),
    );
  };
}
