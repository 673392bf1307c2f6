/** Tables of the orders service (Postgres schema `orders`). */
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import {
  ANONYMOUS_CLIENT_ID,
  ORDER_STATUSES,
  type OrderItem,
  type OrderState,
  type OrderStatus,
} from '../../contracts/orders.js';
import { outboxTable } from './outbox.js';
import { sqlList } from './sql-list.js';

/** The `orders` Postgres schema; only the orders service writes here. */
export const ordersSchema = pgSchema('orders');

/**
 * One row per order, moved forward by `setOrderStatus`; `status_seq` rejects late, out-of-order writes. `view` is the
 * order view as of the last status write (the final view once terminal), so reads need no worker and outlive retention.
 */
export const orders = ordersSchema.table(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    customerId: text('customer_id').notNull(),
    /** The API client that placed the order (tenancy): other clients never see it. */
    clientId: text('client_id').notNull().default(ANONYMOUS_CLIENT_ID),
    items: jsonb('items').$type<OrderItem[]>().notNull(),
    totalCents: bigint('total_cents', { mode: 'number' }).notNull(),
    status: text('status').$type<OrderStatus>().notNull().default('PENDING'),
    statusSeq: integer('status_seq').notNull().default(0),
    failureReason: text('failure_reason'),
    /** Fingerprint of the client's request body: an Idempotency-Key replay is matched against it, no Temporal call. */
    requestHash: text('request_hash'),
    /** Bounded failure type (`OutOfStock`, `PaymentDeclined`, ...), null unless failed. */
    failureCode: text('failure_code'),
    /** The saga's order view at its last status write; null only for rows written before views were recorded. */
    view: jsonb('view').$type<OrderState>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('orders_status_check', sql`${t.status} in (${sqlList(ORDER_STATUSES)})`),
    check('orders_total_cents_check', sql`${t.totalCents} >= 0`),
    // Every listing pages by (created_at, order_id) desc (nulls first, as ORDER BY ... DESC means); each filter gets
    // an index that serves it in that order, so a page is an index range scan, never a sort of the table.
    index('orders_created_idx').on(t.createdAt.desc().nullsFirst(), t.orderId.desc().nullsFirst()),
    index('orders_client_created_idx').on(
      t.clientId,
      t.createdAt.desc().nullsFirst(),
      t.orderId.desc().nullsFirst(),
    ),
    index('orders_customer_created_idx').on(
      t.customerId,
      t.createdAt.desc().nullsFirst(),
      t.orderId.desc().nullsFirst(),
    ),
    index('orders_status_created_idx').on(
      t.status,
      t.createdAt.desc().nullsFirst(),
      t.orderId.desc().nullsFirst(),
    ),
  ],
);

/** Events of the orders service waiting to be published, appended in the transaction of their effect. */
export const ordersOutbox = outboxTable(ordersSchema);
