/** Activities of the payments service: charge and refund, recorded in an append-only ledger. */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { OrderRef } from '../contracts/inventory.js';
import {
  type ChargePaymentInput,
  type ChargeResult,
  PAYMENT_DECLINED,
  type PaymentsActivities,
  REFUND_REJECTED,
  type RefundResult,
} from '../contracts/payments.js';
import type { Database, Transaction } from '../db/client.js';
import { type LedgerKind, ledger } from '../db/schema/payments.js';
import { appendEvent } from '../events/outbox.js';
import { requestCharge, requestRefund, tokenFingerprint } from './providers/payment-provider.js';

/** Failure type for an amount no retry could ever charge (negative or fractional cents). */
export const INVALID_PAYMENT_REQUEST = 'InvalidPaymentRequest';

/** What the payments activities need. */
export interface PaymentsActivityDeps {
  db: Database;
}

/** Builds the payments activities on a database. */
export function createPaymentsActivities({ db }: PaymentsActivityDeps): PaymentsActivities {
  return {
    async chargePayment(input: ChargePaymentInput): Promise<ChargeResult> {
      const { orderId, amountCents } = input;
      if (!Number.isInteger(amountCents) || amountCents < 0) {
        throw ApplicationFailure.create({
          type: INVALID_PAYMENT_REQUEST,
          nonRetryable: true,
          message: `order ${orderId}: amount must be a non-negative integer of cents, got ${amountCents}`,
        });
      }
      const attempt = Context.current().info.attempt;
      const result = await db.transaction(async (tx): Promise<ChargeResult> => {
        const entries = await lockedEntries(tx, orderId);
        if (entries.has('REFUND') || entries.has('VOID')) {
          // A refund got here first (the saga gave up on this charge): the provider must not be asked at all.
          return { orderId, status: 'VOIDED', chargeId: null, amountCents: 0, changed: false };
        }
        const existing = entries.get('CHARGE');
        if (existing) {
          return {
            orderId,
            status: 'CHARGED',
            chargeId: existing.providerRef,
            amountCents: existing.amountCents,
            changed: false,
          };
        }
        // The order id is the processor's idempotency key: a retry after a crash finds the same charge.
        const decision = requestCharge({
          idempotencyKey: orderId,
          amountCents,
          token: input.paymentToken,
          attempt,
        });
        if (decision.outcome === 'declined') {
          log.warn('payment declined', { orderId, attempt });
          throw ApplicationFailure.create({
            type: PAYMENT_DECLINED,
            nonRetryable: true,
            message: decision.reason,
          });
        }
        if (decision.outcome === 'unavailable') {
          log.warn('payment provider unavailable, will retry', { orderId, attempt });
          throw new Error(decision.reason);
        }
        const inserted = await tx
          .insert(ledger)
          .values({
            orderId,
            kind: 'CHARGE',
            amountCents,
            providerRef: decision.providerRef,
            tokenFingerprint: tokenFingerprint(input.paymentToken),
          })
          .onConflictDoNothing({ target: [ledger.orderId, ledger.kind] })
          .returning({ providerRef: ledger.providerRef, amountCents: ledger.amountCents });
        const charge = inserted[0];
        // Stryker disable next-line ConditionalExpression: under the order lock the insert cannot conflict (a guard)
        if (!charge) throw new Error(`charge of order ${orderId} conflicted under the order lock; retrying`);
        await appendEvent(tx, 'payments', 'PaymentCharged', orderId, {
          orderId,
          chargeId: decision.providerRef,
          amountCents: charge.amountCents,
        });
        return {
          orderId,
          status: 'CHARGED',
          chargeId: charge.providerRef,
          amountCents: charge.amountCents,
          changed: true,
        };
      });
      log.info('charge payment', {
        orderId,
        status: result.status,
        amountCents: result.amountCents,
        changed: result.changed,
      });
      return result;
    },

    async refundPayment({ orderId }: OrderRef): Promise<RefundResult> {
      const result = await db.transaction(async (tx): Promise<RefundResult> => {
        const entries = await lockedEntries(tx, orderId);
        const refund = entries.get('REFUND');
        if (refund) return { orderId, status: 'REFUNDED', amountCents: refund.amountCents, changed: false };
        if (entries.has('VOID')) return { orderId, status: 'NOT_CHARGED', amountCents: 0, changed: false };
        const charge = entries.get('CHARGE');
        if (!charge) {
          // Nothing to give back; the VOID row makes a charge that arrives late do nothing.
          await tx.insert(ledger).values({ orderId, kind: 'VOID', amountCents: 0 }).onConflictDoNothing();
          return { orderId, status: 'NOT_CHARGED', amountCents: 0, changed: true };
        }
        const attempt = Context.current().info.attempt;
        const decision = requestRefund({
          idempotencyKey: orderId,
          tokenFingerprint: charge.tokenFingerprint,
          attempt,
        });
        if (decision.outcome === 'unavailable') {
          log.warn('refund provider unavailable, will retry', { orderId, attempt });
          throw new Error(decision.reason);
        }
        if (decision.outcome === 'rejected') {
          // No retry can change the processor's mind: the saga holds the order for an operator.
          log.error('refund rejected by the provider', { orderId });
          throw ApplicationFailure.create({
            type: REFUND_REJECTED,
            nonRetryable: true,
            message: decision.reason,
          });
        }
        const { providerRef } = decision;
        const refunded = await tx
          .insert(ledger)
          .values({ orderId, kind: 'REFUND', amountCents: charge.amountCents, providerRef })
          .onConflictDoNothing()
          .returning({ amountCents: ledger.amountCents });
        // Money moved back: the only refund outcome that is an event (a VOID only blocks a late charge).
        if (refunded.length > 0) {
          await appendEvent(tx, 'payments', 'PaymentRefunded', orderId, {
            orderId,
            refundId: providerRef,
            amountCents: charge.amountCents,
          });
        }
        return { orderId, status: 'REFUNDED', amountCents: charge.amountCents, changed: true };
      });
      log.info('refund payment', {
        orderId,
        status: result.status,
        amountCents: result.amountCents,
        changed: result.changed,
      });
      return result;
    },
  };
}

interface LedgerEntry {
  providerRef: string | null;
  amountCents: number;
  tokenFingerprint: string | null;
}

/**
 * Serialises charge and refund of one order, then reads its ledger. UNIQUE (order_id, kind) alone cannot stop
 * a CHARGE and a VOID from both committing when a charge and a refund race; this per-order lock can.
 */
async function lockedEntries(tx: Transaction, orderId: string): Promise<Map<LedgerKind, LedgerEntry>> {
  // Stryker disable next-line StringLiteral: any constant key still serialises each order (all orders on one lock)
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`payments:${orderId}`}, 0))`);
  const rows = await tx
    .select({
      kind: ledger.kind,
      providerRef: ledger.providerRef,
      amountCents: ledger.amountCents,
      tokenFingerprint: ledger.tokenFingerprint,
    })
    .from(ledger)
    .where(eq(ledger.orderId, orderId));
  return new Map(rows.map(({ kind, ...entry }) => [kind, entry]));
}
