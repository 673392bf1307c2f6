/** The inventory catalog as the API sees it: list, look up and set products (conditionally, by version). */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { products } from '../schema/inventory.js';

/** One product as shown to clients: price and stock (available to order, reserved by running orders). */
export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
  reserved: number;
  /** Bumped by every catalog write; the API's `ETag` is `"v<version>"`. Reservations do not bump it. */
  version: number;
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
  version: products.version,
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

/** The product with this SKU, or undefined. */
export async function getProduct(db: Database, sku: string): Promise<ProductView | undefined> {
  const [row] = await db.select(productView).from(products).where(eq(products.sku, sku));
  return row;
}

/**
 * Creates or overwrites a product's name, price and available stock, unconditionally (seed, chaos and bench setup);
 * leaves `reserved` alone and bumps `version` on an overwrite. The API's `PUT` uses {@link putProduct}.
 */
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
        version: sql`${products.version} + 1`,
        updatedAt: sql`now()`,
      },
    })
    .returning(productView);
  if (!row) throw new Error(`upsert of product ${input.sku} returned no row`);
  return row;
}

/**
 * The precondition of a catalog write (from the request's `If-Match` / `If-None-Match`):
 * - `create`: none sent; creates a product that does not exist, refuses to overwrite one that does;
 * - `exists` (`If-Match: *`): overwrites whatever version there is, refuses to create;
 * - `absent` (`If-None-Match: *`): creates only;
 * - `version` (`If-Match: "v3"`, or a list): overwrites only while the version is one of these;
 * - `never`: a combination that cannot hold (both headers); writes nothing.
 */
export type ProductWriteCondition =
  | { kind: 'create' }
  | { kind: 'exists' }
  | { kind: 'absent' }
  | { kind: 'version'; versions: readonly number[] }
  | { kind: 'never' };

/** What {@link putProduct} did: wrote (`product` as stored), or refused, with the product as it is (if any). */
export type ProductWriteResult =
  | { outcome: 'created' | 'updated'; product: ProductView }
  | { outcome: 'precondition-failed' | 'precondition-required'; current: ProductView | undefined };

/**
 * Sets a product if `condition` holds, in one statement: the check and the write are the same `INSERT … ON CONFLICT
 * DO NOTHING` or `UPDATE … WHERE version = …`, so of two writers holding the same version exactly one wins (the
 * other's row lock wait ends with the version moved on, and its `WHERE` no longer matches). An update bumps
 * `version`; `reserved` is never touched.
 */
export async function putProduct(
  db: Database,
  input: ProductInput,
  condition: ProductWriteCondition,
): Promise<ProductWriteResult> {
  assertNonNegativeInteger('priceCents', input.priceCents);
  assertNonNegativeInteger('available', input.available);
  const fields = { name: input.name, priceCents: input.priceCents, available: input.available };
  if (condition.kind === 'create' || condition.kind === 'absent') {
    const [created] = await db
      .insert(products)
      .values({ sku: input.sku, ...fields })
      .onConflictDoNothing({ target: products.sku })
      .returning(productView);
    if (created) return { outcome: 'created', product: created };
    const outcome = condition.kind === 'create' ? 'precondition-required' : 'precondition-failed';
    return { outcome, current: await getProduct(db, input.sku) };
  }
  if (condition.kind === 'never' || (condition.kind === 'version' && condition.versions.length === 0)) {
    return { outcome: 'precondition-failed', current: await getProduct(db, input.sku) };
  }
  const matches =
    condition.kind === 'version'
      ? and(eq(products.sku, input.sku), inArray(products.version, [...condition.versions]))
      : eq(products.sku, input.sku);
  const [updated] = await db
    .update(products)
    .set({ ...fields, version: sql`${products.version} + 1`, updatedAt: sql`now()` })
    .where(matches)
    .returning(productView);
  if (updated) return { outcome: 'updated', product: updated };
  return { outcome: 'precondition-failed', current: await getProduct(db, input.sku) };
}

function assertNonNegativeInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  }
}
