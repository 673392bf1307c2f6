/**
 * The saga's outcomes a client and an operator can trust: a compensation that fails for good does not skip the others
 * and waits for an operator, a step whose tombstone won ends the order, a failed first write still ends it terminal,
 * and every status write carries the whole view (what closed orders are read from).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OrderInput, type OrderState, STEP_VOIDED } from '../../contracts/orders.js';
import { ADDRESS_UNDELIVERABLE } from '../../contracts/shipping.js';
import {
  getOrderQuery,
  resolveCompensationsUpdate,
  retryCompensationsUpdate,
} from '../../workflows/definitions.js';
import { runStubSaga, startSagaTestEnvironment, stubOrderInput } from '../support/stub-saga.js';
import { StubServices } from '../support/stub-services.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startSagaTestEnvironment(inject('temporalTestServer'));
});

afterAll(async () => {
  await env?.teardown();
});

const run = (
  stubs: StubServices,
  drive?: (handle: WorkflowHandle) => Promise<void>,
  input: Partial<OrderInput> = {},
) =>
  runStubSaga({
    env,
    bundlePath: inject('workflowBundlePath'),
    stubs,
    input: stubOrderInput({ clientId: 'app-1', ...input }),
    ...(drive ? { drive } : {}),
  });

/** Waits (in real time; the test server skips time only while the test awaits a result) for the saga's status. */
async function untilStatus(handle: WorkflowHandle, status: string): Promise<OrderState> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const state = (await handle.query(getOrderQuery)) as OrderState;
    if (state.status === status) return state;
    if (Date.now() > deadline) throw new Error(`never reached ${status} (is ${state.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const undeliverable = () => ApplicationFailure.nonRetryable('carrier refuses XX', ADDRESS_UNDELIVERABLE);
const refundRejected = () => ApplicationFailure.nonRetryable('refund refused', 'RefundRejected');
/** What a rejected update's validator said (the client error only says the update failed). */
const refusal = (update: Promise<unknown>) =>
  update.then(
    () => 'accepted',
    (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
  );
const stepsOf = (state: OrderState) => state.steps.map((step) => [step.name, step.status]);

describe('a compensation that fails for good', () => {
  it('does not skip the others, waits in COMPENSATION_FAILED, and a retry finishes the order', async () => {
    const stubs = new StubServices();
    stubs.failWith('createShipment', undeliverable);
    let refunds = 0;
    stubs.failWith('refundPayment', () => {
      refunds += 1;
      return refunds === 1 ? refundRejected() : null;
    });
    let waiting: OrderState | undefined;
    const { state } = await run(stubs, async (handle) => {
      waiting = await untilStatus(handle, 'COMPENSATION_FAILED');
      const answer = await handle.executeUpdate(retryCompensationsUpdate);
      expect(answer).toEqual({ accepted: true, steps: ['chargePayment'] });
    });
    // The refund failed, yet the shipment cancel before it and the release after it both ran.
    expect(waiting?.steps.find((s) => s.name === 'chargePayment')).toMatchObject({
      status: 'COMPENSATION_FAILED',
      error: 'refund refused',
    });
    expect(stepsOf(waiting as OrderState)).toContainEqual(['reserveStock', 'COMPENSATED']);
    expect(stubs.compensations()).toEqual(['cancelShipment', 'releaseStock', 'refundPayment']);
    expect(stubs.statuses).toEqual([
      'RESERVING',
      'CHARGING',
      'SHIPPING',
      'COMPENSATING',
      'COMPENSATION_FAILED',
      'COMPENSATING',
      'FAILED',
    ]);
    expect(state.status).toBe('FAILED');
    expect(state.failureCode).toBe(ADDRESS_UNDELIVERABLE);
    expect(state.payment.status).toBe('REFUNDED');
    expect(stepsOf(state)).toContainEqual(['chargePayment', 'COMPENSATED']);
    // The retry succeeded: the step no longer shows the error of the attempt that failed.
    expect(state.steps.find((s) => s.name === 'chargePayment')?.error).toBeNull();
  });

  it('an operator resolves it by hand with a note; the order ends FAILED and says so', async () => {
    const stubs = new StubServices();
    stubs.failWith('createShipment', undeliverable);
    stubs.failWith('refundPayment', refundRejected);
    const { state } = await run(stubs, async (handle) => {
      await untilStatus(handle, 'COMPENSATION_FAILED');
      const blank = handle.executeUpdate(resolveCompensationsUpdate, { args: [{ note: ' ' }] });
      expect(await refusal(blank)).toMatch(/needs a note/);
      await handle.executeUpdate(resolveCompensationsUpdate, { args: [{ note: 'refunded by hand, OPS-1' }] });
    });
    expect(state.status).toBe('FAILED');
    expect(state.payment.status).toBe('CHARGED');
    expect(state.steps.find((s) => s.name === 'chargePayment')).toMatchObject({
      status: 'COMPENSATED',
      error: 'resolved by an operator: refunded by hand, OPS-1',
    });
    expect(stubs.compensations()).toEqual(['cancelShipment', 'releaseStock']);
  });

  it('operator updates are refused while no compensation waits for one', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    const { state } = await run(stubs, async (handle) => {
      await gate.reached;
      try {
        expect(await refusal(handle.executeUpdate(retryCompensationsUpdate))).toMatch(
          /no failed compensation/,
        );
        const resolve = handle.executeUpdate(resolveCompensationsUpdate, {
          args: [{ note: 'nothing to do' }],
        });
        expect(await refusal(resolve)).toMatch(/no failed compensation/);
      } finally {
        gate.release();
      }
    });
    expect(state.status).toBe('COMPLETED');
  });
});

describe('a step whose tombstone won', () => {
  it('reserveStock answering RELEASED ends the order FAILED without charging', async () => {
    const stubs = new StubServices();
    stubs.answerWith('reserveStock', () => ({ orderId: 'x', status: 'RELEASED', changed: false }));
    const { state } = await run(stubs);
    expect(state.status).toBe('FAILED');
    expect(state.failureCode).toBe(STEP_VOIDED);
    expect(stubs.calls).not.toContain('chargePayment');
    expect(stubs.compensations()).toEqual(['releaseStock']);
    expect(state.payment).toEqual({ status: 'NONE', amountCents: 0 });
  });

  it('chargePayment answering VOIDED ends it before shipping, refunding and releasing', async () => {
    const stubs = new StubServices();
    stubs.answerWith('chargePayment', () => ({
      orderId: 'x',
      status: 'VOIDED',
      chargeId: null,
      amountCents: 0,
      changed: false,
    }));
    const { state } = await run(stubs);
    expect(state.status).toBe('FAILED');
    expect(state.failureCode).toBe(STEP_VOIDED);
    expect(stubs.calls).not.toContain('createShipment');
    expect(stubs.compensations()).toEqual(['refundPayment', 'releaseStock']);
    expect(state.payment.status).not.toBe('CHARGED');
  });

  it('createShipment answering CANCELLED ends it before committing stock', async () => {
    const stubs = new StubServices();
    stubs.answerWith('createShipment', () => ({
      orderId: 'x',
      status: 'CANCELLED',
      trackingId: null,
      changed: false,
    }));
    const { state } = await run(stubs);
    expect(state.status).toBe('FAILED');
    expect(state.failureCode).toBe(STEP_VOIDED);
    expect(stubs.calls).not.toContain('commitStock');
    expect(stubs.compensations()).toEqual(['cancelShipment', 'refundPayment', 'releaseStock']);
  });
});

describe('the record of an order', () => {
  it('a first write that fails for good still ends the order FAILED, with its view in the terminal write', async () => {
    const stubs = new StubServices();
    // The lean saga records the order with its first status write; the database refuses it for good.
    stubs.failStatusWrites((write) =>
      write.status === 'RESERVING'
        ? ApplicationFailure.nonRetryable('value out of range', 'InvalidData')
        : null,
    );
    const { state } = await run(stubs, undefined, { requestHash: 'hash-1' });
    expect(state.status).toBe('FAILED');
    expect(state.failureCode).toBe('InvalidData');
    expect(stubs.calls).toEqual([]);
    // No write recorded the order yet: the next one creates its row, so it carries the request's hash too.
    expect(stubs.statusWrites[0]).toMatchObject({
      status: 'COMPENSATING',
      seq: 2,
      firstWrite: { requestHash: 'hash-1' },
    });
    const last = stubs.statusWrites.at(-1);
    expect(last).toMatchObject({ status: 'FAILED', clientId: 'app-1', failureCode: 'InvalidData' });
    expect(last?.firstWrite).toBeUndefined();
    expect(last?.view).toMatchObject({ status: 'FAILED', items: state.items, totalCents: state.totalCents });
  });

  it('once a write recorded the order, later writes do not ask to record it again', async () => {
    const stubs = new StubServices();
    const { state } = await run(stubs, undefined, { requestHash: 'hash-2' });
    expect(state.status).toBe('COMPLETED');
    expect(stubs.calls).not.toContain('createOrderRecord');
    expect(stubs.statusWrites.map((w) => [w.status, w.firstWrite])).toEqual([
      ['RESERVING', { requestHash: 'hash-2' }],
      ['CHARGING', undefined],
      ['SHIPPING', undefined],
      ['COMPLETED', undefined],
    ]);
  });

  it('a terminal write whose view is refused for good falls back to the status alone; the order still ends', async () => {
    const stubs = new StubServices();
    stubs.failWith('chargePayment', () =>
      ApplicationFailure.nonRetryable('card declined', 'PaymentDeclined'),
    );
    stubs.failStatusWrites((write) =>
      write.status === 'FAILED' && write.view
        ? ApplicationFailure.nonRetryable('view refused', 'InvalidData')
        : null,
    );
    const { state } = await run(stubs);
    expect(state.status).toBe('FAILED');
    const last = stubs.statusWrites.at(-1);
    expect(last).toMatchObject({ status: 'FAILED', failureCode: 'PaymentDeclined' });
    expect(last?.view).toBeUndefined();
    // Its seq is above the refused write's, so it is never mistaken for a stale retry.
    expect(last?.seq).toBeGreaterThan(stubs.statusWrites.at(-2)?.seq ?? Number.POSITIVE_INFINITY);
  });

  it('every status write carries a rising seq and the view as of that write; the last equals the result', async () => {
    const stubs = new StubServices();
    const { state } = await run(stubs);
    expect(stubs.statusWrites.map((w) => w.seq)).toEqual([1, 2, 3, 4]);
    expect(stubs.statusWrites.map((w) => w.view?.status)).toEqual([
      'RESERVING',
      'CHARGING',
      'SHIPPING',
      'COMPLETED',
    ]);
    expect(stubs.statusWrites[1]?.view?.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserveStock', 'SUCCEEDED'],
    ]);
    expect(stubs.statusWrites.at(-1)?.view).toEqual(state);
    expect(stubs.statusWrites.every((w) => w.clientId === 'app-1')).toBe(true);
  });
});
