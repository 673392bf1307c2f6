/** Tables of the shipping service (Postgres schema `shipping`). */
import { sql } from 'drizzle-orm';
import { check, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import { outboxTable } from './outbox.js';
import { sqlList } from './sql-list.js';

/**
 * Every status a shipment row can hold: `BOOKING` is written (and committed) before the carrier is called, so a
 * compensation always finds the row; `CANCELLED` with no tracking id is a tombstone.
 */
export const SHIPMENT_STATUSES = ['BOOKING', 'CREATED', 'CANCELLED'] as const;

/** The `shipping` Postgres schema; only the shipping service writes here. */
export const shippingSchema = pgSchema('shipping');

/** One row per order; its primary key makes create and cancel idempotent. */
export const shipments = shippingSchema.table(
  'shipments',
  {
    orderId: text('order_id').primaryKey(),
    status: text('status').$type<(typeof SHIPMENT_STATUSES)[number]>().notNull(),
    trackingId: text('tracking_id'),
    /** Destination country only; the rest of the address stays out of storage. Null on tombstones. */
    country: text('country'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('shipments_status_check', sql`${t.status} in (${sqlList(SHIPMENT_STATUSES)})`)],
);

/** Events of the shipping service waiting to be published, appended in the transaction of their effect. */
export const shippingOutbox = outboxTable(shippingSchema);
