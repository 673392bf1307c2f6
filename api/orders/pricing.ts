/** Prices an order from the catalog (never from the client) and refuses unknown SKUs before a saga starts. */

import type { OrderItem } from '../../contracts/orders.js';
import type { Database } from '../../db/client.js';
import { getProductsBySku } from '../../db/queries/catalog.js';
import { ProblemError } from '../problems/problem.js';

/** Each requested line with its catalog unit price; 422 `unknown-sku` naming every unknown line. */
export async function priceItems(
  db: Database,
  lines: ReadonlyArray<{ sku: string; quantity: number }>,
): Promise<OrderItem[]> {
  const catalog = await getProductsBySku(
    db,
    lines.map((line) => line.sku),
  );
  const unknown = lines.flatMap((line, index) => (catalog.has(line.sku) ? [] : [{ line, index }]));
  if (unknown.length > 0) {
    throw new ProblemError(
      'unknown-sku',
      `No product with SKU ${[...new Set(unknown.map(({ line }) => line.sku))].join(', ')}`,
      { errors: unknown.map(({ index }) => ({ path: `items.${index}.sku`, message: 'unknown SKU' })) },
    );
  }
  return lines.map((line) => ({
    sku: line.sku,
    quantity: line.quantity,
    unitPriceCents: catalog.get(line.sku)?.priceCents ?? 0,
  }));
}
