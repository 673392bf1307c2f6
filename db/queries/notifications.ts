/**
 * The API's read of the notifications service's table (`notifications.notifications`): what one order's customer was
 * told, oldest first. Reads only: the notifications service is the only writer (docs/ARCHITECTURE.md).
 */
import { asc, inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type NotificationKind, notifications } from '../schema/notifications.js';

/** One notification as recorded by the notifications service. */
export interface NotificationRecord {
  kind: NotificationKind;
  channel: string;
  message: string;
  /** The event that caused it (its CloudEvents `id`). */
  eventId: string;
  sentAt: string;
}

/** Most notifications one order can have: one per kind, so a bound that is never reached is only a safety net. */
const MAX_NOTIFICATIONS_PER_ORDER = 100;

/** The order's notifications, oldest first (empty when none was sent, or the order is unknown). */
export async function listOrderNotifications(db: Database, orderId: string): Promise<NotificationRecord[]> {
  return (await listNotificationsOfOrders(db, [orderId])).get(orderId) ?? [];
}

/**
 * The notifications of each of `orderIds`, oldest first, in one query (an order with none gets an empty list); at
 * most the per-order bound times the number of orders in all.
 */
export async function listNotificationsOfOrders(
  db: Database,
  orderIds: readonly string[],
): Promise<Map<string, NotificationRecord[]>> {
  const found = new Map<string, NotificationRecord[]>(orderIds.map((id) => [id, []]));
  if (found.size === 0) return found;
  const rows = await db
    .select({
      orderId: notifications.orderId,
      kind: notifications.kind,
      channel: notifications.channel,
      message: notifications.message,
      eventId: notifications.eventId,
      sentAt: notifications.sentAt,
    })
    .from(notifications)
    .where(inArray(notifications.orderId, [...found.keys()]))
    .orderBy(asc(notifications.sentAt), asc(notifications.id))
    .limit(found.size * MAX_NOTIFICATIONS_PER_ORDER);
  for (const { orderId, ...row } of rows)
    found.get(orderId)?.push({ ...row, sentAt: row.sentAt.toISOString() });
  return found;
}
