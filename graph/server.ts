/**
 * Serves one subgraph (GraphQL Yoga over `@apollo/subgraph`'s schema) at `/graphql/<name>` on the HTTP server of
 * the process that owns its service's data. Only the gateway calls it: the caller comes from the gateway's headers,
 * believed only with the internal token; the request joins the trace of the gateway's call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { GraphQLError, parse } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Caller } from '../api/middleware/auth.js';
import type { Logger } from '../core/logger.js';
import { markFailed, TRACER_NAME } from '../core/trace-context.js';
import { callerOfHeaders, hasInternalToken } from './caller.js';
import { exposedError } from './errors.js';
import { type SubgraphName, subgraphPath, subgraphSdl } from './subgraphs.js';

/** What every subgraph resolver sees: who is calling, as the gateway said (undefined when it said nothing). */
export interface SubgraphContext {
  caller: Caller | undefined;
}

/** A subgraph: its name (its schema file), its resolvers and what each request adds to the context (loaders). */
export interface SubgraphDefinition<C extends SubgraphContext> {
  name: SubgraphName;
  resolvers: GraphQLResolverMap<C>;
  context(): Omit<C, keyof SubgraphContext>;
}

/** A subgraph ready to serve: a Node.js request handler and the same as a fetch handler (tests). */
export interface SubgraphServer {
  name: SubgraphName;
  path: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
  fetch(request: Request): Promise<Response>;
}

export interface SubgraphServerOptions {
  /** GRAPH_INTERNAL_TOKEN: requests without it are refused (401) when set. */
  internalToken: string | undefined;
  logger: Logger;
}

function refuseWithoutToken(internalToken: string | undefined): Plugin {
  return {
    onRequest({ request, endResponse }) {
      if (hasInternalToken(request.headers, internalToken)) return;
      const body = {
        errors: [{ message: 'Subgraphs answer the gateway only', extensions: { code: 'UNAUTHENTICATED' } }],
      };
      endResponse(
        new Response(JSON.stringify(body), { status: 401, headers: { 'content-type': 'application/json' } }),
      );
    },
  };
}

export function createSubgraphServer<C extends SubgraphContext>(
  definition: SubgraphDefinition<C>,
  options: SubgraphServerOptions,
): SubgraphServer {
  const { name } = definition;
  const logger = options.logger.child({ subgraph: name });
  const yoga = createYoga<Record<string, unknown>, SubgraphContext>({
    schema: buildSubgraphSchema([{ typeDefs: parse(subgraphSdl(name)), resolvers: definition.resolvers }]),
    graphqlEndpoint: subgraphPath(name),
    graphiql: false,
    landingPage: false,
    logging: false,
    maskedErrors: {
      maskError(error, message) {
        const exposed = exposedError(error);
        if (exposed) return exposed;
        logger.error({ err: error }, 'subgraph resolver failed');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [refuseWithoutToken(options.internalToken)],
    context: ({ request }) => ({ caller: callerOfHeaders(request.headers), ...definition.context() }),
  });
  const tracer = trace.getTracer(TRACER_NAME);
  return {
    name,
    path: subgraphPath(name),
    handle(req, res) {
      // The gateway's span of this call is the parent: the subgraph's reads land in the order's trace.
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = tracer.startSpan(
        `${req.method} ${subgraphPath(name)}`,
        { kind: SpanKind.SERVER, attributes: { 'graphql.subgraph': name } },
        parent,
      );
      res.once('close', () => {
        if (res.statusCode >= 500) markFailed(span, new Error(`HTTP ${res.statusCode}`));
        span.setAttribute('http.response.status_code', res.statusCode);
        span.end();
      });
      context.with(trace.setSpan(parent, span), () => {
        void yoga(req, res);
      });
    },
    fetch: async (request) => yoga.fetch(request, {}),
  };
}
