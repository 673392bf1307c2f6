/**
 * The subgraphs that add a field to `Order` from their own service's data (payments, shipping, notifications):
 * each resolves the gateway's `Order` references of one request with one batched query.
 */
import DataLoader from 'dataloader';
import type { SubgraphContext, SubgraphDefinition } from '../server.js';
import type { SubgraphName } from '../subgraphs.js';

interface ExtensionContext<T> extends SubgraphContext {
  load: DataLoader<string, T>;
}

/** A subgraph whose `Order.<field>` is read in one query per request by `readMany(orderIds)`. */
export function orderExtensionSubgraph<T>(
  name: SubgraphName,
  field: string,
  readMany: (orderIds: readonly string[]) => Promise<Map<string, T>>,
  extra: Record<string, unknown> = {},
): SubgraphDefinition<ExtensionContext<T>> {
  return {
    name,
    context: () => ({
      load: new DataLoader(async (ids: readonly string[]) => {
        const found = await readMany(ids);
        return ids.map((id) => found.get(id) as T);
      }),
    }),
    resolvers: {
      ...extra,
      Order: {
        __resolveReference: async (reference: { id: string }, context: ExtensionContext<T>) => ({
          id: reference.id,
          [field]: await context.load.load(reference.id),
        }),
      },
    },
  };
}
