/** The inventory catalog as the API sees it: list, look up and set products. */
import { asc, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { products } from '../db/schema/inventory.js';

/** One product as shown to clients: price and stock (available to order, reserved by running orders). */
export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
  reserved: number;
}

/** What an admin sets on a product; `reserved` is owned by running orders and never set from outside. */
export interface ProductInput {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
}

const productView = {
  sku: products.sku,
  name: products.name,
  priceCents: products.priceCents,
  available: products.available,
  reserved: products.reserved,
};

/** Every product, ordered by SKU. */
export async function listProducts(db: Database): Promise<ProductView[]> {
  return db.select(productView).from(products).orderBy(asc(products.sku));
}

/** The products with these SKUs, keyed by SKU; unknown SKUs are simply absent from the map. */
export async function getProductsBySku(
  db: Database,
  skus: readonly string[],
): Promise<Map<string, ProductView>> {
  const wanted = [...new Set(skus)];
  if (wanted.length === 0) return new Map();
  const rows = await db.select(productView).from(products).where(inArray(products.sku, wanted));
  return new Map(rows.map((row) => [row.sku, row]));
}

/** Creates or overwrites a product's name, price and available stock (idempotent); leaves `reserved` alone. */
export async function upsertProduct(db: Database, input: ProductInput): Promise<ProductView> {
  assertNonNegativeInteger('priceCents', input.priceCents);
  assertNonNegativeInteger('available', input.available);
  const [row] = await db
    .insert(products)
    .values({ sku: input.sku, name: input.name, priceCents: input.priceCents, available: input.available })
    .onConflictDoUpdate({
      target: products.sku,
      set: {
        name: input.name,
        priceCents: input.priceCents,
        available: input.available,
        updatedAt: sql`now()`,
      },
    })
    .returning(productView);
  if (!row) throw new Error(`upsert of product ${input.sku} returned no row`);
  return row;
}

function assertNonNegativeInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  }
}
