/** Simulated card processor: behaviour chosen by the token (see DESIGN.md), deterministic by input. */
import { createHash } from 'node:crypto';
import {
  FLAKY_FAILED_ATTEMPTS,
  TOKEN_DECLINED,
  TOKEN_FLAKY,
  TOKEN_REFUND_FLAKY,
  TOKEN_REFUND_REJECTED,
} from '../../contracts/payments.js';

/** What the processor is asked to do; `idempotencyKey` is the order id, so a retry maps to the same charge. */
export interface ProviderChargeRequest {
  idempotencyKey: string;
  amountCents: number;
  token: string;
  /** Temporal attempt number (1-based); only `tok_flaky` looks at it. */
  attempt: number;
}

/** The processor's answer: approved with a reference, declined for good, or unavailable for now. */
export type ProviderChargeOutcome =
  | { outcome: 'approved'; providerRef: string }
  | { outcome: 'declined'; reason: string }
  | { outcome: 'unavailable'; reason: string };

/** Decides a charge the way a real processor would answer it, without any I/O. */
export function requestCharge(request: ProviderChargeRequest): ProviderChargeOutcome {
  if (request.token === TOKEN_DECLINED) return { outcome: 'declined', reason: 'card declined' };
  if (request.token === TOKEN_FLAKY && request.attempt <= FLAKY_FAILED_ATTEMPTS) {
    return { outcome: 'unavailable', reason: 'payment provider timeout (simulated)' };
  }
  return { outcome: 'approved', providerRef: chargeReference(request.idempotencyKey) };
}

/** Processor reference of the charge made for an idempotency key (same key, same reference). */
export function chargeReference(idempotencyKey: string): string {
  return `ch_${digest(`charge:${idempotencyKey}`).slice(0, 24)}`;
}

/** Processor reference of the refund of the charge made for an idempotency key. */
export function refundReference(idempotencyKey: string): string {
  return `re_${digest(`refund:${idempotencyKey}`).slice(0, 24)}`;
}

/** Non-reversible fingerprint of a payment token: what the ledger stores instead of the token. */
export function tokenFingerprint(token: string): string {
  return digest(token).slice(0, 16);
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** What the processor is asked when refunding; the charge's token fingerprint picks the simulated behaviour. */
export interface ProviderRefundRequest {
  idempotencyKey: string;
  tokenFingerprint: string | null;
  /** Temporal attempt number (1-based). */
  attempt: number;
}

/** The processor's answer to a refund: done, unavailable for now, or refused for good. */
export type ProviderRefundOutcome =
  | { outcome: 'refunded'; providerRef: string }
  | { outcome: 'unavailable'; reason: string }
  | { outcome: 'rejected'; reason: string };

/**
 * Refunds the charge made for an idempotency key; a `tok_refund_flaky` charge's refund fails twice first, a
 * `tok_refund_rejected` charge's refund is refused every time.
 */
export function requestRefund(request: ProviderRefundRequest): ProviderRefundOutcome {
  if (request.tokenFingerprint === tokenFingerprint(TOKEN_REFUND_REJECTED)) {
    return { outcome: 'rejected', reason: 'the processor refuses to refund this charge (simulated)' };
  }
  const flaky = request.tokenFingerprint === tokenFingerprint(TOKEN_REFUND_FLAKY);
  if (flaky && request.attempt <= FLAKY_FAILED_ATTEMPTS) {
    return { outcome: 'unavailable', reason: 'refund provider timeout (simulated)' };
  }
  return { outcome: 'refunded', providerRef: refundReference(request.idempotencyKey) };
}
