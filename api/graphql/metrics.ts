/** The gateway's Prometheus metrics: per operation and per subgraph call, and each subgraph's circuit. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SubgraphName } from '../../contracts/graph.js';
import type { CircuitState } from './circuit-breaker.js';

/** Operation names become labels only this many times; later new names count as `other` (bounded series). */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** How a subgraph call ended. */
export type SubgraphOutcome = 'ok' | 'error' | 'timeout' | 'circuit_open' | 'cancelled';
/** How an operation ended: `partial` is data with errors (a subgraph did not answer, say). */
export type OperationOutcome = 'ok' | 'partial' | 'error';

export interface GraphMetrics {
  operation(name: string | undefined, type: string, outcome: OperationOutcome, seconds: number): void;
  subgraphCall(subgraph: string, outcome: SubgraphOutcome, seconds: number): void;
  circuit(subgraph: SubgraphName, state: CircuitState): void;
}

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** Registers the metrics once per registry (a second gateway on the same registry shares them). */
export function graphMetrics(registry: Registry): GraphMetrics {
  const operations =
    existing<Counter<string>>(registry, 'graphql_operations_total') ??
    new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations served by the gateway, by operation name, type and outcome',
      labelNames: ['operation', 'type', 'outcome'],
      registers: [registry],
    });
  const operationSeconds =
    existing<Histogram<string>>(registry, 'graphql_operation_duration_seconds') ??
    new Histogram({
      name: 'graphql_operation_duration_seconds',
      help: 'Time to execute a GraphQL operation at the gateway (all its subgraph calls)',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  const calls =
    existing<Counter<string>>(registry, 'graphql_subgraph_requests_total') ??
    new Counter({
      name: 'graphql_subgraph_requests_total',
      help: 'Requests from the gateway to each subgraph, by outcome (circuit_open: refused without a call; cancelled: the client left)',
      labelNames: ['subgraph', 'outcome'],
      registers: [registry],
    });
  const callSeconds =
    existing<Histogram<string>>(registry, 'graphql_subgraph_request_duration_seconds') ??
    new Histogram({
      name: 'graphql_subgraph_request_duration_seconds',
      help: 'Duration of the gateway requests to each subgraph',
      labelNames: ['subgraph'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  const circuits =
    existing<Gauge<string>>(registry, 'graphql_subgraph_circuit_open') ??
    new Gauge({
      name: 'graphql_subgraph_circuit_open',
      help: '1 while the gateway refuses calls to a subgraph (circuit open or half-open), else 0',
      labelNames: ['subgraph'],
      registers: [registry],
    });
  const names = new Set<string>();
  const label = (name: string | undefined) => {
    if (!name || !OPERATION_NAME.test(name)) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };
  return {
    operation(name, type, outcome, seconds) {
      const operation = label(name);
      operations.inc({ operation, type, outcome });
      operationSeconds.observe({ operation, type }, seconds);
    },
    subgraphCall(subgraph, outcome, seconds) {
      calls.inc({ subgraph, outcome });
      if (outcome !== 'circuit_open') callSeconds.observe({ subgraph }, seconds);
    },
    circuit(subgraph, state) {
      circuits.set({ subgraph }, state === 'closed' ? 0 : 1);
    },
  };
}
