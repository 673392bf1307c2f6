/** Tables of the inventory service (Postgres schema `inventory`). */
import { sql } from 'drizzle-orm';
import { check, foreignKey, integer, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { ReservationStatus } from '../../contracts/inventory.js';
import { outboxTable } from './outbox.js';
import { sqlList } from './sql-list.js';

/** Every status a reservation row can hold; `RELEASED` with no items is a tombstone. */
export const RESERVATION_STATUSES = [
  'RESERVED',
  'RELEASED',
  'COMMITTED',
] as const satisfies readonly ReservationStatus[];

/** The `inventory` Postgres schema; only the inventory service writes here. */
export const inventorySchema = pgSchema('inventory');

/** The catalog: price and stock per SKU; the checks make overselling impossible even if code is wrong. */
export const products = inventorySchema.table(
  'products',
  {
    sku: text('sku').primaryKey(),
    name: text('name').notNull(),
    priceCents: integer('price_cents').notNull(),
    available: integer('available').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
    /** Bumped by every catalog write (`PUT /v1/products`): the ETag that makes concurrent edits fail with 412. */
    version: integer('version').notNull().default(1),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('products_price_cents_check', sql`${t.priceCents} >= 0`),
    check('products_available_check', sql`${t.available} >= 0`),
    check('products_reserved_check', sql`${t.reserved} >= 0`),
  ],
);

/** One row per order that touched stock; its primary key makes reserve and release idempotent. */
export const reservations = inventorySchema.table(
  'reservations',
  {
    orderId: text('order_id').primaryKey(),
    status: text('status').$type<ReservationStatus>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('reservations_status_check', sql`${t.status} in (${sqlList(RESERVATION_STATUSES)})`)],
);

/** Units held per SKU by a reservation, so release and commit know exactly what to give back or ship. */
export const reservationItems = inventorySchema.table(
  'reservation_items',
  {
    orderId: text('order_id').notNull(),
    sku: text('sku').notNull(),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.sku] }),
    check('reservation_items_quantity_check', sql`${t.quantity} > 0`),
    foreignKey({ columns: [t.orderId], foreignColumns: [reservations.orderId] }).onDelete('cascade'),
  ],
);

/** Events of the inventory service waiting to be published, appended in the transaction of their effect. */
export const inventoryOutbox = outboxTable(inventorySchema);
