/** The inventory subgraph: `Product` (price and stock now), by SKU, batched per request. */
import DataLoader from 'dataloader';
import type { Database } from '../../db/client.js';
import { getProductsBySku, listProducts, type ProductView } from '../../db/queries/catalog.js';
import { Cents } from '../scalars.js';
import type { SubgraphContext, SubgraphDefinition } from '../server.js';

interface InventoryContext extends SubgraphContext {
  products: DataLoader<string, ProductView | null>;
}

export function inventorySubgraph(db: Database): SubgraphDefinition<InventoryContext> {
  return {
    name: 'inventory',
    context: () => ({
      products: new DataLoader(async (skus: readonly string[]) => {
        const found = await getProductsBySku(db, skus);
        return skus.map((sku) => found.get(sku) ?? null);
      }),
    }),
    resolvers: {
      Cents,
      Query: {
        product: (_: unknown, args: { sku: string }, context: InventoryContext) =>
          context.products.load(args.sku),
        products: () => listProducts(db),
      },
      Product: {
        __resolveReference: (reference: { sku: string }, context: InventoryContext) =>
          context.products.load(reference.sku),
      },
    },
  };
}
