/**
 * One page of the order listing for a caller, REST's `GET /v1/orders` and the graph's `Query.orders` alike: a client
 * lists its own orders, an admin everyone's; a cursor continues only the listing it came from.
 */
import type { OrderStatus } from '../../contracts/orders.js';
import type { Database } from '../../db/client.js';
import { listOrderRecords, type OrderRecordSummary } from '../../db/queries/orders.js';
import type { Caller } from '../middleware/auth.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Filters and position of a page, validated by the caller's schema (REST's query or the graph's arguments). */
export interface ListingRequest {
  status?: OrderStatus | undefined;
  customerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A page, newest first, and the cursor of the next one (null at the end). */
export interface ListingPage {
  items: OrderRecordSummary[];
  nextCursor: string | null;
}

/** Reads one page; a cursor of another listing (other filters, other client) or a forged one is `invalid-cursor`. */
export async function listOrdersPage(
  db: Database,
  caller: Caller,
  request: ListingRequest,
  cursorSecret: string,
): Promise<ListingPage> {
  const clientId = caller.role === 'admin' ? undefined : caller.clientId;
  const scope = new URLSearchParams({
    status: request.status ?? '',
    customerId: request.customerId ?? '',
    client: clientId ?? '*',
  }).toString();
  const after = request.cursor ? decodeCursor(request.cursor, scope, cursorSecret) : undefined;
  const page = await listOrderRecords(db, {
    clientId,
    status: request.status,
    customerId: request.customerId,
    limit: request.limit,
    after,
  });
  return { items: page.items, nextCursor: page.last ? encodeCursor(page.last, scope, cursorSecret) : null };
}
