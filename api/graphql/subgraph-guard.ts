/**
 * The gateway's guard on every subgraph call: a deadline (the call is aborted, its socket freed), a circuit breaker
 * per subgraph, a span in the request's trace (its context goes to the subgraph in `traceparent`), and metrics. A
 * call that fails, times out or is refused by an open circuit yields an error naming the subgraph; the gateway then
 * answers every other field (a partial result), never a failed request.
 */

import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { SubgraphName } from '../../contracts/graph.js';
import { markFailed, TRACER_NAME } from '../../core/trace-context.js';
import { CircuitBreaker, type CircuitPolicy } from './circuit-breaker.js';
import type { GraphMetrics, SubgraphOutcome } from './metrics.js';

/** What the guard reads of the gateway's request to a subgraph. */
interface ExecutionRequest {
  operationType?: string;
  signal?: AbortSignal;
}

export interface SubgraphGuardOptions {
  timeoutMs: number;
  breaker: CircuitPolicy;
  metrics: GraphMetrics;
}

/** The error a guarded call answers with: `extensions.code` says why, `serviceName` which subgraph. */
function unavailable(subgraph: string, code: string, message: string): ExecutionResult {
  return { errors: [new GraphQLError(message, { extensions: { code, serviceName: subgraph } })] };
}

/** A failure of the subgraph (transport, HTTP status, garbage), not an error of a resolver (those have a path). */
function isSubgraphFailure(result: ExecutionResult): boolean {
  return (
    result.data == null && (result.errors?.length ?? 0) > 0 && result.errors?.every((e) => !e.path) === true
  );
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** Guards calls to the subgraphs (the circuits' states are in the metrics). */
export function subgraphGuard(options: SubgraphGuardOptions) {
  const breakers = new Map<string, CircuitBreaker>();
  const tracer = trace.getTracer(TRACER_NAME);
  const breakerOf = (name: string) => {
    let breaker = breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(options.breaker);
      breakers.set(name, breaker);
    }
    return breaker;
  };

  async function guarded(
    name: string,
    // biome-ignore lint/suspicious/noExplicitAny: the gateway's executor; only the signal is changed.
    executor: (request: any) => unknown,
    request: ExecutionRequest,
  ): Promise<unknown> {
    const breaker = breakerOf(name);
    const ticket = breaker.tryAcquire();
    if (!ticket) {
      options.metrics.subgraphCall(name, 'circuit_open', 0);
      options.metrics.circuit(name as SubgraphName, breaker.state);
      return unavailable(name, 'SUBGRAPH_UNAVAILABLE', `The ${name} subgraph is unavailable (circuit open)`);
    }
    const started = performance.now();
    const span = tracer.startSpan(`graphql.subgraph ${name}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'graphql.subgraph': name, 'graphql.operation.type': request.operationType ?? 'query' },
    });
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    let outcome: SubgraphOutcome = 'ok';
    try {
      const result = await context.with(trace.setSpan(context.active(), span), () =>
        Promise.race([Promise.resolve(executor({ ...request, signal })), timedOut]),
      );
      // The client went away (not our deadline): the call says nothing about the subgraph.
      if (request.signal?.aborted && !deadline.aborted) {
        outcome = 'cancelled';
        return result === 'timeout' ? unavailable(name, 'CANCELLED', 'The request was cancelled') : result;
      }
      // The deadline may abort the call a moment before the race notices: either way it is a timeout.
      if (result === 'timeout' || deadline.aborted) {
        outcome = 'timeout';
        return unavailable(
          name,
          'SUBGRAPH_TIMEOUT',
          `The ${name} subgraph did not answer within ${options.timeoutMs} ms`,
        );
      }
      if (isAsyncIterable(result)) return result;
      if (isSubgraphFailure(result as ExecutionResult)) {
        // Identical concurrent reads share one call: the first deadline aborts it for all of them.
        const aborted = (result as ExecutionResult).errors?.some((e) => /abort/i.test(e.message));
        if (!aborted) outcome = 'error';
        else {
          outcome = 'timeout';
          return unavailable(
            name,
            'SUBGRAPH_TIMEOUT',
            `The ${name} subgraph did not answer within ${options.timeoutMs} ms`,
          );
        }
      }
      return result;
    } catch (err) {
      outcome = 'error';
      throw err;
    } finally {
      clearTimeout(timer);
      if (outcome === 'ok') breaker.succeeded(ticket);
      else if (outcome === 'cancelled') breaker.released(ticket);
      else {
        breaker.failed(ticket);
        markFailed(span, new Error(`${name}: ${outcome}`));
      }
      span.end();
      options.metrics.subgraphCall(name, outcome, (performance.now() - started) / 1000);
      options.metrics.circuit(name as SubgraphName, breaker.state);
    }
  }

  const plugin: GatewayPlugin = {
    onSubgraphExecute({ subgraphName, executor, setExecutor }) {
      // biome-ignore lint/suspicious/noExplicitAny: the executor's result type is generic per call.
      setExecutor(((request: ExecutionRequest) => guarded(subgraphName, executor, request)) as any);
    },
  };
  return plugin;
}
