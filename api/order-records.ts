/**
 * Reads of the orders service's table (`orders.orders`): the listing and the "was this order ever placed" check.
 * The table is the orders service's read model, kept current by the saga's `setOrderStatus` activity.
 */
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { OrderStatus } from '../contracts/orders.js';
import type { Database } from '../db/client.js';
import { orders } from '../db/schema/orders.js';
import type { CursorPosition } from './cursor.js';
import { orderLinks } from './links.js';
import type { OrderSummary } from './schemas/orders.js';

/** Filters and position of one listing page. */
export interface OrderListFilter {
  status?: OrderStatus | undefined;
  customerId?: string | undefined;
  limit: number;
  after?: CursorPosition | undefined;
}

/** One page, newest first; `last` is the position to continue from, null when there is nothing more. */
export interface OrderRecordPage {
  items: OrderSummary[];
  last: CursorPosition | null;
}

// Exact (microsecond) text form of a timestamp, so a cursor resumes at precisely the row it stopped at.
const createdAtText = sql<string>`to_char(${orders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A page of orders, newest first, using the (customer_id | status, created_at desc) indexes. */
export async function listOrderRecords(db: Database, filter: OrderListFilter): Promise<OrderRecordPage> {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(orders.status, filter.status));
  if (filter.customerId) conditions.push(eq(orders.customerId, filter.customerId));
  if (filter.after) {
    conditions.push(
      sql`(${orders.createdAt}, ${orders.orderId}) < (${filter.after.createdAt}::timestamptz, ${filter.after.orderId})`,
    );
  }
  const rows = await db
    .select({
      orderId: orders.orderId,
      customerId: orders.customerId,
      status: orders.status,
      items: orders.items,
      totalCents: orders.totalCents,
      failureReason: orders.failureReason,
      createdAt: orders.createdAt,
      createdAtText,
      updatedAt: orders.updatedAt,
    })
    .from(orders)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(orders.createdAt), desc(orders.orderId))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const lastRow = rows.length > filter.limit ? page.at(-1) : undefined;
  return {
    items: page.map((row) => ({
      orderId: row.orderId,
      customerId: row.customerId,
      status: row.status,
      items: row.items,
      totalCents: row.totalCents,
      failureReason: row.failureReason,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      links: orderLinks(row.orderId),
    })),
    last: lastRow ? { createdAt: lastRow.createdAtText, orderId: lastRow.orderId } : null,
  };
}

/** True once the saga of this order has written its row (it was placed, however long ago). */
export async function orderRecordExists(db: Database, orderId: string): Promise<boolean> {
  const rows = await db
    .select({ orderId: orders.orderId })
    .from(orders)
    .where(eq(orders.orderId, orderId))
    .limit(1);
  return rows.length > 0;
}
