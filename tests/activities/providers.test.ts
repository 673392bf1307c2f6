/** The simulated payment provider and carrier: behaviour by input, deterministic references. */
import { describe, expect, it } from 'vitest';
import {
  chargeReference,
  requestCharge,
  requestRefund,
  tokenFingerprint,
} from '../../activities/providers/payment-provider.js';
import {
  createSimulatedCarrier,
  requestBooking,
  trackingIdFor,
} from '../../activities/providers/shipping-carrier.js';

describe('payment provider', () => {
  const base = { idempotencyKey: 'order-1', amountCents: 100, attempt: 1 };

  it('approves ordinary tokens with a reference derived from the idempotency key', () => {
    const first = requestCharge({ ...base, token: 'tok_ok' });
    expect(first).toEqual({ outcome: 'approved', providerRef: chargeReference('order-1') });
    expect(requestCharge({ ...base, token: 'tok_visa', attempt: 5 })).toEqual(first);
    expect(chargeReference('order-2')).not.toBe(chargeReference('order-1'));
  });

  it('declines tok_declined on every attempt', () => {
    for (const attempt of [1, 2, 3, 10]) {
      expect(requestCharge({ ...base, token: 'tok_declined', attempt }).outcome).toBe('declined');
    }
  });

  it('is unavailable for tok_flaky on attempts 1 and 2 only', () => {
    const outcomes = [1, 2, 3, 4].map(
      (attempt) => requestCharge({ ...base, token: 'tok_flaky', attempt }).outcome,
    );
    expect(outcomes).toEqual(['unavailable', 'unavailable', 'approved', 'approved']);
  });

  it('fingerprints tokens as 16 hex characters that do not contain the token', () => {
    const fingerprint = tokenFingerprint('tok_ok');
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint).toBe(tokenFingerprint('tok_ok'));
    expect(fingerprint).not.toBe(tokenFingerprint('tok_ok2'));
  });

  it('gives refunds their own deterministic reference', () => {
    const request = { idempotencyKey: 'order-1', tokenFingerprint: tokenFingerprint('tok_ok'), attempt: 1 };
    expect(requestRefund(request)).toMatchObject({
      outcome: 'refunded',
      providerRef: expect.stringMatching(/^re_/),
    });
    expect(requestRefund(request)).toEqual(requestRefund(request));
  });

  it('fails the first two refunds of a tok_refund_flaky charge transiently', () => {
    const flaky = { idempotencyKey: 'order-2', tokenFingerprint: tokenFingerprint('tok_refund_flaky') };
    expect(requestRefund({ ...flaky, attempt: 1 }).outcome).toBe('unavailable');
    expect(requestRefund({ ...flaky, attempt: 2 }).outcome).toBe('unavailable');
    expect(requestRefund({ ...flaky, attempt: 3 }).outcome).toBe('refunded');
  });
});

describe('shipping carrier', () => {
  it('refuses country XX, whatever the case', () => {
    expect(requestBooking({ idempotencyKey: 'o', country: 'XX' }).outcome).toBe('undeliverable');
    expect(requestBooking({ idempotencyKey: 'o', country: 'xx' }).outcome).toBe('undeliverable');
  });

  it('books elsewhere with a tracking id derived from the idempotency key', () => {
    expect(requestBooking({ idempotencyKey: 'o-1', country: 'FR' })).toEqual({
      outcome: 'booked',
      trackingId: trackingIdFor('o-1'),
    });
    expect(trackingIdFor('o-1')).not.toBe(trackingIdFor('o-2'));
  });

  it('as a carrier object answers the same, idempotently by key, and counts its calls', async () => {
    const carrier = createSimulatedCarrier();
    const first = await carrier.book({ idempotencyKey: 'o-1', country: 'FR' });
    expect(await carrier.book({ idempotencyKey: 'o-1', country: 'FR' })).toEqual(first);
    expect(first).toEqual(requestBooking({ idempotencyKey: 'o-1', country: 'FR' }));
    expect(await carrier.cancel({ idempotencyKey: 'o-1' })).toEqual({ outcome: 'cancelled' });
    expect(carrier.calls).toEqual({ book: 2, cancel: 1 });
  });
});
