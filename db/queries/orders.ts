/**
 * The API's reads of the orders service's table (`orders.orders`), the service's read model kept current by the
 * saga's own `createOrderRecord` / `setOrderStatus` activities: the listing, one order's recorded view, and the count
 * of orders waiting for an operator. Reads only: the orders service is the only writer (docs/ARCHITECTURE.md).
 */
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { OrderState, OrderStatus } from '../../contracts/orders.js';
import type { Database } from '../client.js';
import { orders } from '../schema/orders.js';

/** Where the previous page ended: `(createdAt, orderId)` of its last row, newest first. */
export interface CursorPosition {
  /** Microsecond-precision UTC timestamp as stored, e.g. `2026-01-31T12:00:00.123456Z`. */
  createdAt: string;
  orderId: string;
}

/** One order of a listing page, as recorded. */
export interface OrderRecordSummary {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  items: OrderState['items'];
  totalCents: number;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Filters and position of one listing page. */
export interface OrderListFilter {
  /** Only this client's orders; undefined for an admin (every client). */
  clientId?: string | undefined;
  status?: OrderStatus | undefined;
  customerId?: string | undefined;
  limit: number;
  after?: CursorPosition | undefined;
}

/** One page, newest first; `last` is the position to continue from, null when there is nothing more. */
export interface OrderRecordPage {
  items: OrderRecordSummary[];
  last: CursorPosition | null;
}

// Exact (microsecond) text form of a timestamp, so a cursor resumes at precisely the row it stopped at.
const createdAtText = sql<string>`to_char(${orders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A page of orders, newest first, using the (client_id | customer_id | status, created_at, order_id) indexes. */
export async function listOrderRecords(db: Database, filter: OrderListFilter): Promise<OrderRecordPage> {
  const conditions: SQL[] = [];
  if (filter.clientId !== undefined) conditions.push(eq(orders.clientId, filter.clientId));
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
    })),
    last: lastRow ? { createdAt: lastRow.createdAtText, orderId: lastRow.orderId } : null,
  };
}

/** What the orders service recorded of one order: its owner, status and its view as of the last status write. */
export interface OrderRecord {
  clientId: string;
  /** Fingerprint of the request that placed it; null for rows written before it was recorded. */
  requestHash: string | null;
  status: OrderStatus;
  /** The whole view; rebuilt from the row's own columns for rows written before views were recorded. */
  view: OrderState;
  /** False for such older rows: their steps, payment and shipment are not known from the record. */
  complete: boolean;
}

/** The recorded order, or null when its saga has not written it (yet). */
export async function readOrderRecord(db: Database, orderId: string): Promise<OrderRecord | null> {
  const [row] = await db.select().from(orders).where(eq(orders.orderId, orderId)).limit(1);
  return row ? recordOf(row) : null;
}

/** The recorded orders among `orderIds`, by id, in one query (ids without a record are absent). */
export async function readOrderRecords(
  db: Database,
  orderIds: readonly string[],
): Promise<Map<string, OrderRecord>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(orders)
    .where(inArray(orders.orderId, [...new Set(orderIds)]));
  return new Map(rows.map((row) => [row.orderId, recordOf(row)]));
}

function recordOf(row: typeof orders.$inferSelect): OrderRecord {
  const known = { clientId: row.clientId, requestHash: row.requestHash, status: row.status };
  // The row's columns move with every write; the view is the saga's at the same write.
  if (row.view) return { ...known, view: { ...row.view, status: row.status }, complete: true };
  return {
    ...known,
    complete: false,
    view: {
      orderId: row.orderId,
      customerId: row.customerId,
      status: row.status,
      items: row.items,
      totalCents: row.totalCents,
      steps: [],
      payment: { status: 'NONE', amountCents: 0 },
      shipment: { status: 'NONE', trackingId: null },
      failureReason: row.failureReason,
      failureCode: row.failureCode,
      cancelRequested: false,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    },
  };
}

/** How many orders wait for an operator (a compensation failed for good); served by the status index. */
export async function countAwaitingOperator(db: Database): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(orders)
    .where(eq(orders.status, 'COMPENSATION_FAILED'));
  return row?.count ?? 0;
}
