/** Demo catalog inserted at start; never overwrites, so a restart keeps the current stock. */
import type { Database } from './client.js';
import { products } from './schema/inventory.js';

/** A product of the demo catalog. */
export interface SeedProduct {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
}

/** The demo catalog; `LIMITED-1` has little stock so the out-of-stock path is easy to show. */
export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { sku: 'MUG-RED', name: 'Red mug', priceCents: 1299, available: 100 },
  { sku: 'TSHIRT-M', name: 'T-shirt, size M', priceCents: 2499, available: 100 },
  { sku: 'BOOK-SAGA', name: 'Book: Sagas in practice', priceCents: 3999, available: 100 },
  { sku: 'POSTER-XL', name: 'Poster, XL', priceCents: 1999, available: 100 },
  { sku: 'LIMITED-1', name: 'Limited edition print', priceCents: 9999, available: 3 },
];

/** Inserts the demo products that are missing; returns how many were inserted (0 on a restart). */
export async function seedCatalog(
  db: Database,
  catalog: readonly SeedProduct[] = SEED_PRODUCTS,
): Promise<number> {
  const inserted = await db
    .insert(products)
    .values(catalog.map((product) => ({ ...product })))
    .onConflictDoNothing({ target: products.sku })
    .returning({ sku: products.sku });
  return inserted.length;
}
