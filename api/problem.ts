/** RFC 9457 problem details: every non-2xx answer of the API goes through here. */
import type { Context } from 'hono';

/** Base of the problem `type` URIs; each kind of problem has its own slug. */
export const PROBLEM_BASE = 'https://order-saga.dev/problems/';

export interface FieldError {
  path: string;
  message: string;
}

/** An error a handler throws to answer with a specific problem. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

/** Builds the problem+json response for a status, slug and message. */
export function problemResponse(c: Context, error: ProblemError): Response {
  const body = {
    type: `${PROBLEM_BASE}${error.slug}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance: c.req.path,
    ...(error.extra.errors ? { errors: error.extra.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...error.extra.headers },
  });
}

export const notFound = (what: string) => new ProblemError(404, 'not-found', 'Not found', what);
