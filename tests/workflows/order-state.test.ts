/**
 * The order view's pure helpers (`workflows/order-state.ts`): the view of a just-accepted order, which the API also
 * answers a `202` with before the saga has run, how a step's status is recorded, and the reason a failed step gives.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { OrderInput, OrderState } from '../../contracts/orders.js';
import { initialOrderState, markStep, reasonOf } from '../../workflows/order-state.js';

const input: OrderInput = {
  orderId: 'ord_state_1',
  customerId: 'cus_1',
  items: [{ sku: 'SKU-1', quantity: 2, unitPriceCents: 500 }],
  totalCents: 1000,
  paymentToken: 'tok_ok',
  shippingAddress: {
    name: 'A. Customer',
    line1: '1 Main St',
    city: 'Springfield',
    postalCode: '12345',
    country: 'US',
  },
  createdAt: '2026-12-07T10:00:00.000Z',
};

describe('the view of a just-accepted order', () => {
  it('is PENDING with nothing done yet: no step, no charge, no shipment, no failure', () => {
    const view = initialOrderState(input, '2026-12-07T10:00:01.000Z');
    expect(view).toEqual({
      orderId: 'ord_state_1',
      customerId: 'cus_1',
      status: 'PENDING',
      items: input.items,
      totalCents: 1000,
      steps: [],
      payment: { status: 'NONE', amountCents: 0 },
      shipment: { status: 'NONE', trackingId: null },
      failureReason: null,
      failureCode: null,
      cancelRequested: false,
      createdAt: '2026-12-07T10:00:00.000Z',
      updatedAt: '2026-12-07T10:00:01.000Z',
    });
  });

  it('names the client that placed it only when there is one', () => {
    expect(initialOrderState({ ...input, clientId: 'client-a' }, input.createdAt).clientId).toBe('client-a');
    expect('clientId' in initialOrderState(input, input.createdAt)).toBe(false);
  });
});

describe('step statuses', () => {
  const fresh = (): OrderState => initialOrderState(input, input.createdAt);

  it('adds a step the first time it is seen, with no error, and moves the view’s updatedAt', () => {
    const view = fresh();
    markStep(view, 'reserveStock', 'RUNNING', '2026-12-07T10:00:02.000Z');
    expect(view.steps).toEqual([
      { name: 'reserveStock', status: 'RUNNING', at: '2026-12-07T10:00:02.000Z', error: null },
    ]);
    expect(view.updatedAt).toBe('2026-12-07T10:00:02.000Z');
  });

  it('updates a step it has seen in place, keeping its error unless a new one is given', () => {
    const view = fresh();
    markStep(view, 'reserveStock', 'RUNNING', '2026-12-07T10:00:02.000Z');
    markStep(view, 'chargePayment', 'RUNNING', '2026-12-07T10:00:03.000Z');
    markStep(view, 'reserveStock', 'FAILED', '2026-12-07T10:00:04.000Z', 'out of stock');
    markStep(view, 'reserveStock', 'COMPENSATING', '2026-12-07T10:00:05.000Z');
    expect(view.steps).toEqual([
      { name: 'reserveStock', status: 'COMPENSATING', at: '2026-12-07T10:00:05.000Z', error: 'out of stock' },
      { name: 'chargePayment', status: 'RUNNING', at: '2026-12-07T10:00:03.000Z', error: null },
    ]);
    markStep(view, 'reserveStock', 'FAILED', '2026-12-07T10:00:06.000Z', 'still failing');
    expect(view.steps[0]?.error).toBe('still failing');
    expect(view.updatedAt).toBe('2026-12-07T10:00:06.000Z');
  });
});

describe('the reason of a failed step', () => {
  const activityFailure = (cause?: Error) =>
    new ActivityFailure(
      'Activity task failed',
      'chargePayment',
      '3',
      RetryState.NON_RETRYABLE_FAILURE,
      'w',
      cause,
    );

  it('is the business failure’s type and message, whether or not it is wrapped as an activity failure', () => {
    const declined = ApplicationFailure.nonRetryable('card declined', 'PaymentDeclined');
    expect(reasonOf(activityFailure(declined))).toEqual({
      code: 'PaymentDeclined',
      message: 'card declined',
    });
    expect(reasonOf(declined)).toEqual({ code: 'PaymentDeclined', message: 'card declined' });
  });

  it('is coded ApplicationFailure for a business failure without a type', () => {
    const untyped = ApplicationFailure.create({ message: 'no type given', nonRetryable: true });
    expect(reasonOf(activityFailure(untyped))).toEqual({
      code: 'ApplicationFailure',
      message: 'no type given',
    });
  });

  it('is the error’s class and bare message for any other failure (a step that timed out)', () => {
    const timeout = new TimeoutFailure(
      'activity StartToClose timeout',
      undefined,
      TimeoutType.START_TO_CLOSE,
    );
    expect(reasonOf(activityFailure(timeout))).toEqual({
      code: 'TimeoutFailure',
      message: 'activity StartToClose timeout',
    });
    expect(reasonOf(new RangeError('bad'))).toEqual({ code: 'RangeError', message: 'bad' });
  });

  it('is coded Unknown, with the value as text, for something thrown that is not an error', () => {
    expect(reasonOf('plain text thrown')).toEqual({ code: 'Unknown', message: 'plain text thrown' });
    expect(reasonOf(activityFailure())).toEqual({ code: 'Unknown', message: 'undefined' });
  });
});
