/** Reads of the payments service's ledger (`payments.ledger`) for the graph: each order's money, batched. */
import { inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import { ledger } from '../schema/payments.js';

/** One order's money as the ledger has it. */
export interface PaymentRecord {
  status: 'NONE' | 'CHARGED' | 'REFUNDED';
  amountCents: number;
  refundedCents: number;
  voided: boolean;
  chargedAt: string | null;
  refundedAt: string | null;
}

/** What an order with no ledger entry has: nothing charged. */
export const NO_PAYMENT: PaymentRecord = {
  status: 'NONE',
  amountCents: 0,
  refundedCents: 0,
  voided: false,
  chargedAt: null,
  refundedAt: null,
};

/** The payment of each of `orderIds`, in one query; orders with no entry get {@link NO_PAYMENT}. */
export async function readPayments(
  db: Database,
  orderIds: readonly string[],
): Promise<Map<string, PaymentRecord>> {
  const payments = new Map(orderIds.map((id) => [id, { ...NO_PAYMENT }]));
  if (payments.size === 0) return payments;
  const rows = await db
    .select({
      orderId: ledger.orderId,
      kind: ledger.kind,
      amountCents: ledger.amountCents,
      createdAt: ledger.createdAt,
    })
    .from(ledger)
    .where(inArray(ledger.orderId, [...payments.keys()]));
  for (const row of rows) {
    const payment = payments.get(row.orderId);
    if (!payment) continue;
    if (row.kind === 'CHARGE') {
      payment.amountCents = row.amountCents;
      payment.chargedAt = row.createdAt.toISOString();
      if (payment.status === 'NONE') payment.status = 'CHARGED';
    } else if (row.kind === 'REFUND') {
      payment.refundedCents = row.amountCents;
      payment.refundedAt = row.createdAt.toISOString();
      payment.status = 'REFUNDED';
    } else {
      payment.voided = true;
    }
  }
  return payments;
}
