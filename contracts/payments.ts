/** Contract of the payments service: a ledger of charges and refunds, never updated in place. */
import type { OrderRef } from './inventory.js';

/** Task queue polled by the payments worker. */
export const PAYMENTS_QUEUE = 'payments';

/** Business failure: the provider declined the card. */
export const PAYMENT_DECLINED = 'PaymentDeclined';

/** Simulated provider tokens that pick a behaviour (see DESIGN.md). */
export const TOKEN_DECLINED = 'tok_declined';
export const TOKEN_FLAKY = 'tok_flaky';
/** Charges normally, but refunding it fails transiently twice first (a compensation that is retried). */
export const TOKEN_REFUND_FLAKY = 'tok_refund_flaky';
/** Charges normally, but the provider refuses its refund for good (a compensation that needs an operator). */
export const TOKEN_REFUND_REJECTED = 'tok_refund_rejected';
/** Failure type of a refund the provider refused for good. */
export const REFUND_REJECTED = 'RefundRejected';
/** Attempts of a `tok_flaky` charge that fail transiently before one succeeds. */
export const FLAKY_FAILED_ATTEMPTS = 2;

export interface ChargePaymentInput {
  orderId: string;
  amountCents: number;
  paymentToken: string;
}

/** `VOIDED`: a refund came first, so the charge did nothing. */
export type ChargeStatus = 'CHARGED' | 'VOIDED';

export interface ChargeResult {
  orderId: string;
  status: ChargeStatus;
  chargeId: string | null;
  amountCents: number;
  changed: boolean;
}

/** `NOT_CHARGED`: nothing to refund, recorded so a late charge does nothing. */
export type RefundStatus = 'REFUNDED' | 'NOT_CHARGED';

export interface RefundResult {
  orderId: string;
  status: RefundStatus;
  amountCents: number;
  changed: boolean;
}

/** Activities of the payments service (queue {@link PAYMENTS_QUEUE}). */
export interface PaymentsActivities {
  chargePayment(input: ChargePaymentInput): Promise<ChargeResult>;
  refundPayment(input: OrderRef): Promise<RefundResult>;
}
