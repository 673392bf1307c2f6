/** Tables of the orders service (Postgres schema `orders`). */
import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import { ORDER_STATUSES, type OrderItem, type OrderStatus } from '../../contracts/orders.js';
import { sqlList } from './sql-list.js';

/** The `orders` Postgres schema; only the orders service writes here. */
export const ordersSchema = pgSchema('orders');

/** One row per order, moved forward by `setOrderStatus`; `status_seq` rejects late, out-of-order writes. */
export const orders = ordersSchema.table(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    customerId: text('customer_id').notNull(),
    items: jsonb('items').$type<OrderItem[]>().notNull(),
    totalCents: integer('total_cents').notNull(),
    status: text('status').$type<OrderStatus>().notNull().default('PENDING'),
    statusSeq: integer('status_seq').notNull().default(0),
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('orders_status_check', sql`${t.status} in (${sqlList(ORDER_STATUSES)})`),
    check('orders_total_cents_check', sql`${t.totalCents} >= 0`),
    index('orders_customer_created_idx').on(t.customerId, t.createdAt.desc().nullsFirst()),
    index('orders_status_created_idx').on(t.status, t.createdAt.desc().nullsFirst()),
  ],
);
