/** Activities of the orders service: the order row and its status, written in saga order. */
import { log } from '@temporalio/activity';
import { and, eq, lt } from 'drizzle-orm';
import type { CreateOrderRecordInput, OrdersActivities, SetOrderStatusInput } from '../contracts/orders.js';
import type { Database } from '../db/client.js';
import { orders } from '../db/schema/orders.js';

/** What the orders activities need. */
export interface OrdersActivityDeps {
  db: Database;
}

/** Builds the orders activities on a database. */
export function createOrdersActivities({ db }: OrdersActivityDeps): OrdersActivities {
  return {
    async createOrderRecord(input: CreateOrderRecordInput): Promise<void> {
      const inserted = await db
        .insert(orders)
        .values({
          orderId: input.orderId,
          customerId: input.customerId,
          items: input.items,
          totalCents: input.totalCents,
          status: 'PENDING',
          statusSeq: 0,
          createdAt: new Date(input.createdAt),
          updatedAt: new Date(input.createdAt),
        })
        // The saga may retry this after a crash; the first row wins and keeps any later status.
        .onConflictDoNothing({ target: orders.orderId })
        .returning({ orderId: orders.orderId });
      log.info('order record written', { orderId: input.orderId, changed: inserted.length > 0 });
    },

    async setOrderStatus(input: SetOrderStatusInput): Promise<void> {
      const updated = await db
        .update(orders)
        .set({
          status: input.status,
          statusSeq: input.seq,
          failureReason: input.failureReason ?? null,
          updatedAt: new Date(),
        })
        // A retry delivered after a newer status carries a lower seq and must not move the order back.
        .where(and(eq(orders.orderId, input.orderId), lt(orders.statusSeq, input.seq)))
        .returning({ orderId: orders.orderId });
      if (updated.length > 0) {
        log.info('order status set', { orderId: input.orderId, status: input.status, seq: input.seq });
        return;
      }
      const existing = await db
        .select({ status: orders.status, statusSeq: orders.statusSeq })
        .from(orders)
        .where(eq(orders.orderId, input.orderId));
      const current = existing[0];
      if (!current) {
        // Retryable on purpose: the row may be written by a createOrderRecord still in flight.
        throw new Error(`order ${input.orderId} does not exist yet; cannot set status ${input.status}`);
      }
      log.info('order status unchanged (stale or repeated write)', {
        orderId: input.orderId,
        status: input.status,
        seq: input.seq,
        currentStatus: current.status,
        currentSeq: current.statusSeq,
      });
    },
  };
}
