/** Tables of the notifications service (Postgres schema `notifications`): it joins by events alone. */
import { sql } from 'drizzle-orm';
import { bigserial, check, pgSchema, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { EventName } from '../../contracts/events.js';
import { sqlList } from './sql-list.js';

/** The events a customer is told about; a notification's `kind` is the event's name. */
export const NOTIFICATION_KINDS = [
  'OrderCompleted',
  'OrderFailed',
  'OrderCancelled',
  'PaymentRefunded',
] as const satisfies readonly EventName[];
/** One kind of notification. */
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The `notifications` Postgres schema; only the notifications service writes here. */
export const notificationsSchema = pgSchema('notifications');

/**
 * Events a consumer has handled, committed with the handler's effect: a redelivered event finds its row and has no
 * second effect.
 */
export const notificationsInbox = notificationsSchema.table(
  'inbox',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

/** Notifications sent to customers; UNIQUE (order_id, kind) keeps it to one per kind even if an event repeats. */
export const notifications = notificationsSchema.table(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderId: text('order_id').notNull(),
    kind: text('kind').$type<NotificationKind>().notNull(),
    channel: text('channel').notNull(),
    message: text('message').notNull(),
    /** The provider's id of the message it accepted (null if the provider gives none). */
    providerRef: text('provider_ref'),
    /** The event that caused it. */
    eventId: uuid('event_id').notNull().unique(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('notifications_order_kind_unique').on(t.orderId, t.kind),
    check('notifications_kind_check', sql`${t.kind} in (${sqlList(NOTIFICATION_KINDS)})`),
  ],
);

/**
 * The customer of each order, recorded from OrderPlaced: the terminal events carry only the order id, and this
 * service learns who to tell from the events alone, never from another service's tables.
 */
export const orderCustomers = notificationsSchema.table('order_customers', {
  orderId: text('order_id').primaryKey(),
  customerId: text('customer_id').notNull(),
  recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
});
