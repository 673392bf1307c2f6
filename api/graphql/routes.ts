/**
 * `/graphql`: the federated graph behind the API's own guards — the same API keys and tenancy as `/v1` (the
 * caller goes to the subgraphs), the same body limit and load shedding — with every refusal in GraphQL's error
 * format (`errors[].extensions.code`), not problem+json.
 */
import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problemCode } from '../../graph/errors.js';
import { API_LIMITS } from '../limits.js';
import { type AuthConfig, type AuthVariables, callerOf, requireKey } from '../middleware/auth.js';
import { JSON_MEDIA_TYPE } from '../middleware/json-body.js';
import { ProblemError } from '../problems/problem.js';
import { Problem } from '../problems/responses.js';
import { createRouter } from '../router.js';
import type { GraphGateway } from './gateway.js';

/** A GraphQL-format refusal of the whole request. */
function graphError(
  c: Context,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return c.json({ errors: [{ message, extensions: { code } }] }, status as 400, headers);
}

/** The auth of `/v1` (requireKey), with its refusals in GraphQL's format. */
function authenticate(auth: AuthConfig): MiddlewareHandler<{ Variables: AuthVariables }> {
  const check = requireKey(auth, 'client');
  return async (c, next) => {
    let passed = false;
    try {
      await check(c, async () => {
        passed = true;
      });
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      return graphError(c, err.status, problemCode(err.slug), err.detail, err.extra.headers);
    }
    if (passed) return next();
    return graphError(c, 401, 'UNAUTHORIZED', 'Send `Authorization: Bearer <api key>`');
  };
}

/** A GraphQL request (GraphQL over HTTP): the document or a persisted operation's hash in `extensions`. */
const GraphRequest = z.looseObject({
  query: z.string().nullable().optional(),
  operationName: z.string().max(256).nullable().optional(),
  variables: z.record(z.string(), z.unknown()).nullable().optional(),
  extensions: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** A GraphQL response as the gateway sends it. */
const GraphResponse = z.looseObject({
  data: z.unknown().optional(),
  errors: z.array(z.looseObject({})).optional(),
});

export interface GraphRouterDeps {
  /** Undefined when the graph is off (production without GRAPH_INTERNAL_TOKEN): 503 with the reason. */
  gateway: GraphGateway | undefined;
  auth: AuthConfig;
  /** Dev mode: `GET /graphql` in a browser is the GraphiQL page, served without a key (its requests need one). */
  development: boolean;
}

export function graphRouter(deps: GraphRouterDeps) {
  const router = createRouter();
  const { gateway } = deps;
  router.use(
    '/graphql',
    bodyLimit({
      maxSize: API_LIMITS.maxBodyBytes,
      onError: (c) =>
        graphError(c, 413, 'BODY_TOO_LARGE', `Bodies are limited to ${API_LIMITS.maxBodyBytes} bytes`, {
          connection: 'close',
        }),
    }),
  );
  const auth = authenticate(deps.auth);
  // GET serves only the GraphiQL page, in dev; operations are POSTed as JSON (GraphQL over HTTP).
  router.get('/graphql', async (c) => {
    if (deps.development && gateway && /text\/html/.test(c.req.header('accept') ?? '')) {
      return gateway.handle(c.req.raw, { clientId: 'graphiql', role: 'client' });
    }
    return graphError(c, 405, 'METHOD_NOT_ALLOWED', 'POST GraphQL operations as JSON to /graphql', {
      allow: 'POST',
    });
  });
  router.post('/graphql', auth, async (c) => {
    if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) {
      return graphError(c, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the operation as application/json');
    }
    // The envelope is checked here, as documented: a body that is not a GraphQL request is a 400, not an error
    // inside a 200.
    const body = await c.req.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return graphError(c, 400, 'BAD_REQUEST', 'The body is not valid JSON');
    }
    const request = GraphRequest.safeParse(parsed);
    if (!request.success) {
      const where = request.error.issues[0]?.path.join('.') || 'body';
      return graphError(
        c,
        400,
        'BAD_REQUEST',
        `Not a GraphQL request: ${where} ${request.error.issues[0]?.message ?? ''}`.trim(),
      );
    }
    if (!gateway) {
      return graphError(
        c,
        503,
        'GRAPH_DISABLED',
        'The graph is off: set GRAPH_INTERNAL_TOKEN (required in production)',
      );
    }
    const forwarded = new Request(c.req.url, {
      method: 'POST',
      headers: c.req.raw.headers,
      body,
      signal: c.req.raw.signal,
    });
    return gateway.handle(forwarded, callerOf(c));
  });
  router.openAPIRegistry.registerPath({
    method: 'post',
    path: '/graphql',
    operationId: 'graphql',
    tags: ['graph'],
    summary: 'The federated graph (GraphQL over HTTP)',
    description:
      'Orders, products, payments, shipments and notifications as one graph (docs/GRAPHQL.md). Errors are in ' +
      "GraphQL's format with `extensions.code`; a subgraph that does not answer yields a partial result.",
    request: {
      body: {
        content: {
          'application/json': {
            schema: GraphRequest,
          },
        },
      },
    },
    responses: {
      200: {
        description: 'A GraphQL response (`data`, and `errors` for what could not be answered)',
        content: { 'application/json': { schema: GraphResponse } },
      },
      400: {
        description: 'Not a GraphQL request (no query, unparsable body)',
        content: { 'application/json': { schema: GraphResponse } },
      },
      401: {
        description: 'No or an unknown API key (`UNAUTHORIZED`)',
        content: { 'application/json': { schema: GraphResponse } },
      },
      413: {
        description: 'Body over the limit (`BODY_TOO_LARGE`)',
        content: { 'application/json': { schema: GraphResponse } },
      },
      415: {
        description: 'Not a GraphQL media type',
        content: { 'application/json': { schema: GraphResponse } },
      },
      503: {
        description:
          'The graph is off (`GRAPH_DISABLED`), or the API sheds load (problem+json, with Retry-After)',
        content: {
          'application/json': { schema: GraphResponse },
          'application/problem+json': { schema: Problem },
        },
      },
    },
  });
  return router;
}
