/** Log lines: one `service` per line, the ids from Temporal metadata, readable errors, secrets redacted. */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { temporalLoggerFrom } from '../../core/temporal.js';

function capture(service = 'worker:payments') {
  const lines: string[] = [];
  const logger = createLogger(service, 'info', { write: (line: string) => lines.push(line) });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logger', () => {
  it('names the process role, or the service a line or child logger gives, exactly once', () => {
    const { logger, lines, parsed } = capture();
    logger.info('plain');
    logger.info({ service: 'payments' }, 'from an activity');
    logger.child({ service: 'api' }).info('from a child');
    expect(parsed().map((l) => l.service)).toEqual(['worker:payments', 'payments', 'api']);
    for (const line of lines) expect(line.match(/"service":/g)).toHaveLength(1);
  });

  it('redacts payment tokens, addresses, keys and inputs', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        paymentToken: 'tok_secret1',
        payment: { token: 'tok_secret2' },
        order: { paymentToken: 'tok_secret3', shippingAddress: { line1: '1 Secret Rd' } },
        shippingAddress: { line1: '2 Secret Rd' },
        headers: { authorization: 'Bearer key' },
        args: [{ paymentToken: 'tok_secret4' }],
      },
      'everything sensitive',
    );
    expect(lines[0]).not.toMatch(/tok_secret|Secret Rd|Bearer key/);
    expect(lines[0]).toContain('[redacted]');
  });

  it('writes errors under err or error with class, message, stack and a failure type', () => {
    const { logger, parsed } = capture();
    const failure = ApplicationFailure.create({
      type: 'PaymentDeclined',
      message: 'card declined',
      nonRetryable: true,
    });
    logger.warn({ error: failure }, 'Activity failed');
    logger.error({ err: new TypeError('boom') }, 'crash');
    const [declined, crash] = parsed();
    expect(declined?.error).toMatchObject({
      type: 'ApplicationFailure',
      message: 'card declined',
      failureType: 'PaymentDeclined',
      nonRetryable: true,
      stack: expect.stringContaining('card declined'),
    });
    expect(crash?.err).toMatchObject({ type: 'TypeError', message: 'boom' });
  });
});

describe('Temporal logger adapter', () => {
  it('adds service (from the task queue) and orderId (from the workflow id), and drops the task token', () => {
    const { logger, parsed } = capture();
    const temporal = temporalLoggerFrom(logger);
    temporal.info('charge payment', {
      sdkComponent: 'activity',
      taskQueue: 'payments',
      workflowId: 'order-ord_42',
      taskToken: 'c2VjcmV0',
      activityType: 'chargePayment',
    });
    temporal.warn('Activity failed', { taskQueue: 'shipping', error: new Error('carrier down') });
    expect(parsed()).toMatchObject([
      {
        level: 30,
        service: 'payments',
        orderId: 'ord_42',
        workflowId: 'order-ord_42',
        msg: 'charge payment',
      },
      { level: 40, service: 'shipping', error: { message: 'carrier down' }, msg: 'Activity failed' },
    ]);
    expect(parsed()[0]).not.toHaveProperty('taskToken');
  });
});
