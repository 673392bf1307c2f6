/** The problem+json body schema and the documented problem responses shared by the routes (headers, examples). */
import { z } from '@hono/zod-openapi';
import { OrderStatusSchema } from '../common-schemas.js';
import { PROBLEM_BASE, PROBLEM_TYPE_URIS, PROBLEM_TYPES, type ProblemSlug } from './problem.js';

/** RFC 9457 problem details; `errors` lists the failing fields of a validation problem. */
export const Problem = z
  .object({
    type: z.enum(PROBLEM_TYPE_URIS).openapi({ example: 'https://order-saga.dev/problems/validation' }),
    title: z.string().openapi({ example: 'Invalid request body' }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z.string().openapi({ example: 'The body did not match the schema; see errors' }),
    instance: z.string().optional().openapi({ example: '/v1/orders' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ example: [{ path: 'items.0.quantity', message: 'Too big: expected number to be <=1000' }] }),
    orderStatus: OrderStatusSchema.optional().openapi({
      description: 'On `order-not-cancellable`: where the order is now.',
    }),
    orderId: z
      .string()
      .optional()
      .openapi({
        description:
          'On a `503` of `POST /v1/orders` whose start got no answer in time: the order it may have created (also in ' +
          '`Location`); read it before placing the order again.',
      }),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details (`application/problem+json`).' });

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request: bad JSON, or a path, query or header parameter out of its schema',
  401: 'Missing or invalid API key',
  403: 'The key is not an admin key, or (codec server) the browser origin is not allowed',
  404: 'No such resource',
  409: 'The order can no longer be cancelled',
  413: 'Body larger than the limit',
  415: 'Body is not application/json',
  422: 'Well-formed JSON that breaks the rules: schema, unknown SKU, an Idempotency-Key reused, or a payload that cannot be decrypted',
  500: 'Unexpected error (a bug; it is logged)',
  503: 'Temporal, the database or the event broker is unavailable, no worker answers for a live order, or the API is shedding load; retry after `Retry-After` seconds',
};

/** Response headers that come with some problems. */
const HEADERS: Record<
  number,
  Record<string, { description: string; required: boolean; schema: { type: 'string'; pattern?: string } }>
> = {
  401: {
    'WWW-Authenticate': {
      description: 'Always `Bearer`.',
      required: true,
      schema: { type: 'string' as const },
    },
  },
  503: {
    'Retry-After': {
      description: 'Seconds to wait before retrying.',
      required: true,
      schema: { type: 'string' as const, pattern: '^[0-9]+$' },
    },
  },
};

function exampleFor(status: number) {
  const slugs = (Object.keys(PROBLEM_TYPES) as ProblemSlug[]).filter(
    (slug) => PROBLEM_TYPES[slug].status === status,
  );
  return Object.fromEntries(
    slugs.map((slug) => [
      slug,
      {
        summary: PROBLEM_TYPES[slug].title,
        value: {
          type: `${PROBLEM_BASE}${slug}`,
          title: PROBLEM_TYPES[slug].title,
          status,
          detail: PROBLEM_TYPES[slug].when,
        },
      },
    ]),
  );
}

/** OpenAPI response entries for the given problem statuses. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'Problem',
        ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
        content: { 'application/problem+json': { schema: Problem, examples: exampleFor(status) } },
      },
    ]),
  ) as unknown as Record<
    S,
    { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }
  >;
}

/** Problems any `/v1` route can answer: no key, a bug, a dependency down. */
export const V1_PROBLEMS = [401, 500, 503] as const;
/** Problems of a route that takes a JSON body. */
export const BODY_PROBLEMS = [400, 413, 415, 422] as const;
