/**
 * The gateway at `/graphql` (Hive Gateway's runtime): it serves the committed supergraph (never introspects
 * subgraphs at run time, so a rolling update of one service cannot break composition) and calls each subgraph
 * under the guard of subgraph-guard.ts. Depth and cost are limited before anything runs; introspection and
 * GraphiQL exist in dev only; with GRAPH_PERSISTED_ONLY only the operations of graph/operations/ are served.
 */
import { readFileSync } from 'node:fs';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { GraphQLError, getOperationAST, type ValidationContext } from 'graphql';
import type { Registry } from 'prom-client';
import { SUBGRAPH_NAMES } from '../../contracts/graph.js';
import type { GraphSettings } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { activeTraceparent } from '../../core/trace-context.js';
import { callerHeaders } from '../../graph/caller.js';
import { isGraphQLError } from '../../graph/errors.js';
import { persistedOperations } from '../../graph/operations.js';
import { defaultSubgraphUrl, SUPERGRAPH_PATH } from '../../graph/subgraphs.js';
import type { Caller } from '../middleware/auth.js';
import { type GraphMetrics, graphMetrics } from './metrics.js';
import { publicError } from './public-errors.js';
import { subgraphGuard } from './subgraph-guard.js';

/** The gateway's request context: who is calling, as the API's auth identified them. */
interface GatewayRequestContext {
  caller: Caller;
}

export interface GraphGatewayOptions {
  settings: GraphSettings;
  /** Dev mode: introspection and GraphiQL on. */
  development: boolean;
  logger: Logger;
  registry: Registry;
}

/** A running gateway. */
export interface GraphGateway {
  handle(request: Request, caller: Caller): Promise<Response>;
  close(): Promise<void>;
}

/** Aliases one operation may have (none of the shipped operations has any): each may be a read of its own. */
const MAX_ALIASES = 15;

/**
 * Counts operations by name, type and outcome (a partial result is data with errors), and strips what the
 * subgraph calls' errors carry about the calls themselves.
 */
function operationResults(metrics: GraphMetrics): GatewayPlugin {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || Symbol.asyncIterator in result) return;
          if (result.errors?.length) setResult({ ...result, errors: result.errors.map(publicError) });
          const outcome = !result.errors?.length ? 'ok' : result.data ? 'partial' : 'error';
          const seconds = (performance.now() - started) / 1000;
          metrics.operation(operation?.name?.value, operation?.operation ?? 'unknown', outcome, seconds);
        },
      };
    },
  };
}

/** How a refusal of graphql-armor's limits is reported: as a validation error with a stable code. */
function refuseWith(code: string, logger: Logger) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        logger.debug({ code, reason: error.message }, 'operation refused');
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } }),
        );
      },
    ],
  };
}

/** Sends the trace context of the active span (the guard's span of this call) to the subgraph. */
const propagateTrace: GatewayPlugin = {
  onFetch({ options, setOptions }) {
    const traceparent = activeTraceparent();
    if (!traceparent) return;
    const headers = new Headers(options.headers as HeadersInit | undefined);
    headers.set('traceparent', traceparent);
    setOptions({ ...options, headers: Object.fromEntries(headers) });
  },
};

export function createGraphGateway(options: GraphGatewayOptions): GraphGateway {
  const { settings, development } = options;
  const metrics = graphMetrics(options.registry);
  const guard = subgraphGuard({
    timeoutMs: settings.subgraphTimeoutMs,
    // An open period shorter than a call's deadline would let one slow call outlast it.
    breaker: { ...settings.breaker, openMs: Math.max(settings.breaker.openMs, settings.subgraphTimeoutMs) },
    metrics,
  });
  const persisted = new Map([...persistedOperations().values()].map((op) => [op.hash, op.document]));
  const logger = options.logger.child({ component: 'graphql' });
  const runtime = createGatewayRuntime<GatewayRequestContext>({
    supergraph: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    transports: { http: httpTransport },
    // Where each subgraph answers here; the supergraph's URLs are compose's.
    transportEntries: Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [
        name,
        {
          location: settings.subgraphUrls[name] ?? defaultSubgraphUrl(name),
          // The fetch itself is aborted at the deadline (also one that identical concurrent reads share), so a hung
          // subgraph keeps no socket past it.
          options: { timeout: settings.subgraphTimeoutMs },
        },
      ]),
    ),
    graphqlEndpoint: '/graphql',
    // A subgraph call's deadline (or the client going away) aborts its fetch: no socket outlives its request.
    upstreamCancellation: true,
    landingPage: false,
    graphiql: development ? { title: 'order-saga graph' } : false,
    ...(development ? {} : { disableIntrospection: {} }),
    logging: false,
    propagateHeaders: {
      // No caller (a request that did not come through the API's auth) names none: the subgraphs then refuse.
      fromClientToSubgraphs: ({ context }) =>
        context.caller ? callerHeaders(context.caller, settings.internalToken) : {},
    },
    persistedDocuments: {
      getPersistedOperation: (hash: string) => persisted.get(hash) ?? null,
      allowArbitraryDocuments: !settings.persistedOnly,
    },
    plugins: () => [
      maxDepthPlugin({
        n: settings.maxDepth,
        flattenFragments: true,
        ...refuseWith('DEPTH_LIMIT_EXCEEDED', logger),
      }),
      costLimitPlugin({
        maxCost: settings.maxCost,
        flattenFragments: true,
        ...refuseWith('COST_LIMIT_EXCEEDED', logger),
      }),
      maxAliasesPlugin({ n: MAX_ALIASES, ...refuseWith('ALIAS_LIMIT_EXCEEDED', logger) }),
      guard,
      propagateTrace,
      operationResults(metrics),
    ],
    maskedErrors: {
      maskError(error, message) {
        // The gateway's own refusals and the subgraphs' errors are GraphQL errors; anything else is a bug here.
        if (isGraphQLError(error) && (!error.originalError || isGraphQLError(error.originalError)))
          return error;
        logger.error({ err: error }, 'graphql gateway error');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
  });
  return {
    handle: async (request, caller) => runtime.fetch(request, { caller }),
    close: async () => {
      await runtime.dispose();
    },
  };
}
