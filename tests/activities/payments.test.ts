/** Payments activities against a real database: one charge per order, refunds and voids, tokens never stored. */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsActivities } from '../../activities/payments.js';
import {
  FLAKY_FAILED_ATTEMPTS,
  PAYMENT_DECLINED,
  REFUND_REJECTED,
  TOKEN_DECLINED,
  TOKEN_FLAKY,
  TOKEN_REFUND_FLAKY,
  TOKEN_REFUND_REJECTED,
} from '../../contracts/payments.js';
import type { Database } from '../../db/client.js';
import { ledger, paymentsOutbox } from '../../db/schema/payments.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  TEST_DRIVERS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import {
  expectBusinessFailure,
  expectTransientError,
  RecordingLogger,
  runActivity,
  uniqueId,
} from './helpers.js';

for (const { driver, skip } of TEST_DRIVERS) {
  describe.skipIf(skip)(`payments activities (${driver})`, () => {
    let handle: TestDatabase;
    let db: Database;
    let payments: ReturnType<typeof createPaymentsActivities>;

    beforeAll(async () => {
      handle = await createTestDatabase(driver);
      db = handle.db;
      payments = createPaymentsActivities({ db });
    }, DATABASE_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await handle?.close();
    }, DATABASE_HOOK_TIMEOUT_MS);

    const entries = (orderId: string) => db.select().from(ledger).where(eq(ledger.orderId, orderId));
    const kinds = async (orderId: string) => (await entries(orderId)).map((row) => row.kind).sort();
    /** The events this order's payment activities appended to the payments outbox, oldest first. */
    const events = async (orderId: string) =>
      (await db.select().from(paymentsOutbox).where(eq(paymentsOutbox.orderId, orderId)))
        .sort((a, b) => a.seq - b.seq)
        .map((row) => ({ type: row.envelope.type, data: row.envelope.data }));

    it.each([
      ['negative', -1],
      ['fractional', 12.5],
      ['not a number', Number.NaN],
      ['infinite', Number.POSITIVE_INFINITY],
    ])('refuses a %s amount for good, before touching the ledger', async (_, amountCents) => {
      const orderId = uniqueId('order');
      const failure = await expectBusinessFailure(
        runActivity(payments.chargePayment, { orderId, amountCents, paymentToken: 'tok_ok' }),
        // Spelled out: the failure code clients see on the order is part of the contract.
        'InvalidPaymentRequest',
      );
      expect(failure.message).toContain(orderId);
      expect(await entries(orderId)).toEqual([]);
    });

    it('charges a zero amount (a fully discounted order) like any other, once', async () => {
      const orderId = uniqueId('order');
      const input = { orderId, amountCents: 0, paymentToken: 'tok_ok' };
      expect(await runActivity(payments.chargePayment, input)).toMatchObject({
        status: 'CHARGED',
        amountCents: 0,
        changed: true,
      });
      expect(await kinds(orderId)).toEqual(['CHARGE']);
    });

    it('charges once when called twice, with the same charge id', async () => {
      const orderId = uniqueId('order');
      const input = { orderId, amountCents: 2598, paymentToken: 'tok_ok' };

      const first = await runActivity(payments.chargePayment, input);
      const second = await runActivity(payments.chargePayment, input);

      expect(first).toMatchObject({ orderId, status: 'CHARGED', amountCents: 2598, changed: true });
      expect(first.chargeId).toMatch(/^ch_/);
      expect(second).toEqual({ ...first, changed: false });
      expect(await kinds(orderId)).toEqual(['CHARGE']);
    });

    it('charges once when the same charge is retried concurrently', async () => {
      const orderId = uniqueId('order');
      const input = { orderId, amountCents: 700, paymentToken: 'tok_ok' };
      const results = await Promise.all(
        Array.from({ length: 8 }, () => runActivity(payments.chargePayment, input)),
      );
      expect(results.filter((r) => r.changed)).toHaveLength(1);
      expect(await kinds(orderId)).toEqual(['CHARGE']);
    });

    it('stores only a fingerprint of the token, and never logs it', async () => {
      const orderId = uniqueId('order');
      const token = `tok_secret_${uniqueId('card')}`;
      const logger = new RecordingLogger();

      await runActivity(
        payments.chargePayment,
        { orderId, amountCents: 100, paymentToken: token },
        { logger },
      );

      const [row] = await entries(orderId);
      const expected = createHash('sha256').update(token).digest('hex').slice(0, 16);
      expect(row?.tokenFingerprint).toBe(expected);
      expect(JSON.stringify(row)).not.toContain(token);
      expect(logger.entries.length).toBeGreaterThan(0);
      expect(JSON.stringify(logger.entries)).not.toContain(token);
    });

    it('declines tok_declined as a non-retryable business failure and records nothing', async () => {
      const orderId = uniqueId('order');
      const failure = await expectBusinessFailure(
        runActivity(payments.chargePayment, { orderId, amountCents: 100, paymentToken: TOKEN_DECLINED }),
        PAYMENT_DECLINED,
      );
      expect(failure.message).toBe('card declined');
      expect(await entries(orderId)).toEqual([]);
    });

    it('fails tok_flaky transiently on the first attempts, then charges', async () => {
      const orderId = uniqueId('order');
      const input = { orderId, amountCents: 100, paymentToken: TOKEN_FLAKY };
      expect(FLAKY_FAILED_ATTEMPTS).toBe(2);

      for (const attempt of [1, 2]) {
        const error = await expectTransientError(runActivity(payments.chargePayment, input, { attempt }));
        expect(error.message).toBe('payment provider timeout (simulated)');
        expect(await entries(orderId)).toEqual([]);
      }
      const charged = await runActivity(payments.chargePayment, input, { attempt: 3 });

      expect(charged).toMatchObject({ status: 'CHARGED', amountCents: 100, changed: true });
      expect(await kinds(orderId)).toEqual(['CHARGE']);
    });

    it('retries the refund of a tok_refund_flaky charge: two transient failures, then one refund', async () => {
      const orderId = uniqueId('order');
      await runActivity(payments.chargePayment, {
        orderId,
        amountCents: 700,
        paymentToken: TOKEN_REFUND_FLAKY,
      });
      for (const attempt of [1, 2]) {
        const error = await expectTransientError(
          runActivity(payments.refundPayment, { orderId }, { attempt }),
        );
        expect(error.message).toBe('refund provider timeout (simulated)');
        expect(await kinds(orderId)).toEqual(['CHARGE']);
      }
      const refunded = await runActivity(payments.refundPayment, { orderId }, { attempt: 3 });
      expect(refunded).toEqual({ orderId, status: 'REFUNDED', amountCents: 700, changed: true });
      expect((await kinds(orderId)).sort()).toEqual(['CHARGE', 'REFUND']);
    });

    it('refunds the charged amount once when called twice', async () => {
      const orderId = uniqueId('order');
      await runActivity(payments.chargePayment, { orderId, amountCents: 4200, paymentToken: 'tok_ok' });

      const first = await runActivity(payments.refundPayment, { orderId });
      const second = await runActivity(payments.refundPayment, { orderId });

      expect(first).toEqual({ orderId, status: 'REFUNDED', amountCents: 4200, changed: true });
      expect(second).toEqual({ orderId, status: 'REFUNDED', amountCents: 4200, changed: false });
      const refunds = (await entries(orderId)).filter((row) => row.kind === 'REFUND');
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({ amountCents: 4200, tokenFingerprint: null });
      expect(refunds[0]?.providerRef).toMatch(/^re_/);
    });

    it('announces a charge and its refund once each, with the amounts and provider ids, and a void not at all', async () => {
      const orderId = uniqueId('order');
      const charged = await runActivity(payments.chargePayment, {
        orderId,
        amountCents: 1250,
        paymentToken: 'tok_ok',
      });
      await runActivity(payments.chargePayment, { orderId, amountCents: 1250, paymentToken: 'tok_ok' });
      await runActivity(payments.refundPayment, { orderId });
      await runActivity(payments.refundPayment, { orderId });
      const refundId = (await entries(orderId)).find((row) => row.kind === 'REFUND')?.providerRef;
      expect(await events(orderId)).toEqual([
        {
          type: 'order-saga.payments.PaymentCharged.v1',
          data: { orderId, chargeId: charged.chargeId, amountCents: 1250 },
        },
        { type: 'order-saga.payments.PaymentRefunded.v1', data: { orderId, refundId, amountCents: 1250 } },
      ]);

      const voided = uniqueId('order');
      await runActivity(payments.refundPayment, { orderId: voided });
      expect(await events(voided)).toEqual([]);
    });

    it('fails a refund the provider rejects for good, refunding and announcing nothing, and says so in the log', async () => {
      const orderId = uniqueId('order');
      await runActivity(payments.chargePayment, {
        orderId,
        amountCents: 800,
        paymentToken: TOKEN_REFUND_REJECTED,
      });
      const logger = new RecordingLogger();
      const failure = await expectBusinessFailure(
        runActivity(payments.refundPayment, { orderId }, { logger }),
        REFUND_REJECTED,
      );
      expect(failure.nonRetryable).toBe(true);
      expect(await kinds(orderId)).toEqual(['CHARGE']);
      expect((await events(orderId)).map((event) => event.type)).toEqual([
        'order-saga.payments.PaymentCharged.v1',
      ]);
      expect(logger.entries).toContainEqual({
        level: 'ERROR',
        message: 'refund rejected by the provider',
        meta: expect.objectContaining({ orderId }),
      });
    });

    it('records a void for a refund without a charge, which makes a late charge a no-op', async () => {
      const orderId = uniqueId('order');

      const refund = await runActivity(payments.refundPayment, { orderId });
      const refundAgain = await runActivity(payments.refundPayment, { orderId });
      const charge = await runActivity(payments.chargePayment, {
        orderId,
        amountCents: 900,
        paymentToken: 'tok_ok',
      });

      expect(refund).toEqual({ orderId, status: 'NOT_CHARGED', amountCents: 0, changed: true });
      expect(refundAgain).toEqual({ orderId, status: 'NOT_CHARGED', amountCents: 0, changed: false });
      expect(charge).toEqual({ orderId, status: 'VOIDED', chargeId: null, amountCents: 0, changed: false });
      expect(await kinds(orderId)).toEqual(['VOID']);
    });

    it('does not charge again after a refund', async () => {
      const orderId = uniqueId('order');
      const input = { orderId, amountCents: 300, paymentToken: 'tok_ok' };
      await runActivity(payments.chargePayment, input);
      await runActivity(payments.refundPayment, { orderId });
      const retried = await runActivity(payments.chargePayment, input);
      expect(retried.status).toBe('VOIDED');
      expect(await kinds(orderId)).toEqual(['CHARGE', 'REFUND']);
    });

    it('never ends with an unrefunded charge when charge and refund race', async () => {
      for (let round = 0; round < 15; round += 1) {
        const orderId = uniqueId('race');
        await Promise.all([
          runActivity(payments.chargePayment, { orderId, amountCents: 500, paymentToken: 'tok_ok' }),
          runActivity(payments.refundPayment, { orderId }),
        ]);
        // Either the refund came first (VOID only) or it followed the charge (CHARGE + REFUND).
        expect([['VOID'], ['CHARGE', 'REFUND']]).toContainEqual(await kinds(orderId));
      }
    });

    it('has a unique (order_id, kind) constraint on the ledger', async () => {
      const orderId = uniqueId('order');
      await runActivity(payments.chargePayment, { orderId, amountCents: 100, paymentToken: 'tok_ok' });
      await expect(db.insert(ledger).values({ orderId, kind: 'CHARGE', amountCents: 100 })).rejects.toThrow();
    });

    it('rejects a raw token in the fingerprint column', async () => {
      await expect(
        db
          .insert(ledger)
          .values({ orderId: uniqueId('order'), kind: 'CHARGE', amountCents: 1, tokenFingerprint: 'tok_ok' }),
      ).rejects.toThrow();
    });
  });
}
