/** A value the database can never store fails the activity at once instead of being retried forever. */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_DATA, withDataErrorsNonRetryable } from '../../activities/data-errors.js';
import { createOrdersActivities } from '../../activities/orders.js';
import { createTestDatabase, DATABASE_HOOK_TIMEOUT_MS, type TestDatabase } from '../support/database.js';
import { runActivity, uniqueId } from './helpers.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
}, DATABASE_HOOK_TIMEOUT_MS);
afterAll(async () => database?.close());

describe('withDataErrorsNonRetryable', () => {
  it('makes an out-of-range total a non-retryable InvalidData failure', async () => {
    const orders = withDataErrorsNonRetryable(createOrdersActivities({ db: database.db }));
    const input = {
      orderId: uniqueId('order'),
      customerId: 'c',
      items: [],
      totalCents: 2 ** 40,
      createdAt: new Date().toISOString(),
    };
    const error = await runActivity(orders.createOrderRecord, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: INVALID_DATA, nonRetryable: true });
  });

  it('lets other errors through unchanged (they stay retryable)', async () => {
    const failing = withDataErrorsNonRetryable({
      async flaky() {
        throw new Error('connection reset');
      },
    });
    await expect(failing.flaky()).rejects.toThrow('connection reset');
  });
});
