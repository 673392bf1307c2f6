/**
 * The subgraphs a process serves: those of the services it hosts (a worker process) or of the notifications
 * consumer. The orders subgraph places, reads and cancels through the same gateway as REST, on a Temporal client
 * of its own (lazy: a Temporal outage answers errors for its fields, never a failed start).
 */
import type { DataConverter } from '@temporalio/common';
import { OrdersGateway } from '../api/orders/gateway.js';
import { TemporalCalls } from '../api/temporal/calls.js';
import { createLazyTemporalClient, type LazyTemporalClient } from '../api/temporal/connection.js';
import type { AppConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/client.js';
import { listNotificationsOfOrders } from '../db/queries/notifications.js';
import { readPayments } from '../db/queries/payments.js';
import { readShipments } from '../db/queries/shipping.js';
import { ClosedOrderCache } from './closed-orders.js';
import { inventorySubgraph } from './resolvers/inventory.js';
import { orderExtensionSubgraph } from './resolvers/order-extensions.js';
import { ordersSubgraph } from './resolvers/orders.js';
import { Cents } from './scalars.js';
import { createSubgraphServer, type SubgraphServer } from './server.js';
import type { SubgraphName } from './subgraphs.js';

export interface ProcessSubgraphsOptions {
  names: readonly SubgraphName[];
  db: Database;
  config: AppConfig;
  logger: Logger;
  /** The process's converter: the orders subgraph starts and queries sagas with it. */
  dataConverter?: DataConverter;
}

/** The process's subgraph servers and what they own (the orders subgraph's Temporal client). */
export interface ProcessSubgraphs {
  servers: SubgraphServer[];
  close(): Promise<void>;
}

/** Builds the servers of `names`; none when the graph is off (production without GRAPH_INTERNAL_TOKEN). */
export function createProcessSubgraphs(options: ProcessSubgraphsOptions): ProcessSubgraphs {
  const { db, config, logger } = options;
  if (!config.graph.enabled) return { servers: [], close: async () => {} };
  let temporal: LazyTemporalClient | undefined;
  const serve = { internalToken: config.graph.internalToken, logger };
  const serverOf = (name: SubgraphName): SubgraphServer => {
    switch (name) {
      case 'orders': {
        if (!options.dataConverter) throw new Error('the orders subgraph needs the data converter');
        temporal = createLazyTemporalClient(config.temporal, options.dataConverter);
        // Temporal's answer must come back within the gateway's deadline, so a slow Temporal is this subgraph's
        // TEMPORAL_UNAVAILABLE (with the order's id when a start's outcome is unknown), not a gateway timeout.
        const temporalMs = Math.min(
          config.api.temporalTimeoutMs,
          Math.floor(config.graph.subgraphTimeoutMs * 0.75),
        );
        const gateway = new OrdersGateway(new TemporalCalls(temporal.client, temporalMs), db, {
          placement: config.api.placement,
        });
        const closedOrders = new ClosedOrderCache({
          ttlMs: config.graph.closedOrderTtlMs,
          maxEntries: 10_000,
        });
        return createSubgraphServer(
          ordersSubgraph({ gateway, db, cursorSecret: config.api.cursorSecret, closedOrders }),
          serve,
        );
      }
      case 'inventory':
        return createSubgraphServer(inventorySubgraph(db), serve);
      case 'payments':
        return createSubgraphServer(
          orderExtensionSubgraph('payments', 'payment', (ids) => readPayments(db, ids), { Cents }),
          serve,
        );
      case 'shipping':
        return createSubgraphServer(
          orderExtensionSubgraph('shipping', 'shipment', (ids) => readShipments(db, ids)),
          serve,
        );
      case 'notifications':
        return createSubgraphServer(
          orderExtensionSubgraph('notifications', 'notifications', (ids) =>
            listNotificationsOfOrders(db, ids),
          ),
          serve,
        );
    }
  };
  const servers = options.names.map(serverOf);
  return { servers, close: async () => temporal?.close() };
}
