/** Documented problem responses shared by the routes. */
import { Problem } from '../schemas.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (bad JSON, header or query parameter)',
  401: 'Missing or invalid API key',
  403: 'The key is not an admin key',
  404: 'No such resource',
  409: 'The order can no longer be cancelled',
  413: 'Body larger than the limit',
  415: 'Body is not application/json',
  422: 'The request is well-formed but invalid (failing fields listed)',
  503: 'Temporal or the database is unavailable; retry after `Retry-After` seconds',
};

/** OpenAPI response entries for the given problem statuses. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'Problem',
        content: { 'application/problem+json': { schema: Problem } },
      },
    ]),
  ) as Record<
    S,
    { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }
  >;
}
