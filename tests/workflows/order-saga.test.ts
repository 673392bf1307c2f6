/** The saga's logic on the time-skipping test server, with stub activities that record what ran. */

import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OUT_OF_STOCK } from '../../contracts/inventory.js';
import {
  type OrderInput,
  type OrderState,
  SAGA_PLACEMENTS,
  type SagaPlacement,
} from '../../contracts/orders.js';
import { PAYMENT_DECLINED } from '../../contracts/payments.js';
import { ADDRESS_UNDELIVERABLE } from '../../contracts/shipping.js';
import { cancelOrderUpdate, getOrderQuery } from '../../workflows/definitions.js';
import { runStubSaga, startSagaTestEnvironment, stubOrderInput, until } from '../support/stub-saga.js';
import { StubServices } from '../support/stub-services.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startSagaTestEnvironment(inject('temporalTestServer'));
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs the saga under test (the current workflow code) with the given stubs. */
let placement: SagaPlacement = 'distributed';

async function runSaga(
  stubs: StubServices,
  input: OrderInput,
  drive?: (handle: WorkflowHandle) => Promise<void>,
): Promise<OrderState> {
  const bundlePath = inject('workflowBundlePath');
  return (await runStubSaga({ env, bundlePath, stubs, input, placement, ...(drive ? { drive } : {}) })).state;
}

const orderInput = stubOrderInput;

const FORWARD = ['reserveStock', 'chargePayment', 'createShipment', 'commitStock'];

describe.each(SAGA_PLACEMENTS)('orderSaga (%s)', (which) => {
  beforeAll(() => {
    placement = which;
  });
  /**
   * What a cancel undoes, given the compensations of the steps it saw run: a colocated order undoes every step
   * before the point of no return, since a lost workflow task may have run them as local activities unseen.
   */
  const undoneOnCancel = (seen: string[]) =>
    which === 'colocated' ? ['cancelShipment', 'refundPayment', 'releaseStock'] : seen;

  it('completes the happy path: every step once, in order, with status writes between', async () => {
    const stubs = new StubServices();
    const state = await runSaga(stubs, orderInput());
    expect(state.status).toBe('COMPLETED');
    expect(stubs.calls.filter((c) => FORWARD.includes(c))).toEqual(FORWARD);
    expect(stubs.statuses).toEqual(['RESERVING', 'CHARGING', 'SHIPPING', 'COMPLETED']);
    expect(stubs.compensations()).toEqual([]);
    expect(state.payment).toEqual({ status: 'CHARGED', amountCents: 2000 });
    expect(state.shipment.status).toBe('CREATED');
    expect(state.steps.map((s) => [s.name, s.status])).toEqual(FORWARD.map((name) => [name, 'SUCCEEDED']));
  });

  const failures = [
    { at: 'reserveStock', type: OUT_OF_STOCK, undo: ['releaseStock'] },
    { at: 'chargePayment', type: PAYMENT_DECLINED, undo: ['refundPayment', 'releaseStock'] },
    {
      at: 'createShipment',
      type: ADDRESS_UNDELIVERABLE,
      undo: ['cancelShipment', 'refundPayment', 'releaseStock'],
    },
    {
      at: 'commitStock',
      type: 'ReservationNotFound',
      undo: ['cancelShipment', 'refundPayment', 'releaseStock'],
    },
  ] as const;

  for (const failure of failures) {
    it(`a business failure at ${failure.at} runs exactly ${failure.undo.join(', ')} in reverse`, async () => {
      const stubs = new StubServices();
      stubs.failWith(failure.at, () =>
        ApplicationFailure.nonRetryable(`${failure.at} refused`, failure.type),
      );
      const state = await runSaga(stubs, orderInput());
      expect(state.status).toBe('FAILED');
      expect(state.failureCode).toBe(failure.type);
      expect(state.failureReason).toBe(`${failure.at} refused`);
      expect(stubs.compensations()).toEqual(failure.undo);
      const failedAt = FORWARD.indexOf(failure.at);
      expect(stubs.calls.filter((c) => FORWARD.includes(c))).toEqual(FORWARD.slice(0, failedAt));
      // A business failure is not retried.
      expect(stubs.attempts[failure.at]).toBe(1);
      expect(stubs.statuses.slice(-2)).toEqual(['COMPENSATING', 'FAILED']);
      expect(state.steps.find((s) => s.name === failure.at)?.error).toBe(`${failure.at} refused`);
    });
  }

  it('retries a transient failure and still completes', async () => {
    const stubs = new StubServices();
    stubs.failWith('chargePayment', (attempt) => (attempt <= 2 ? new Error('provider timeout') : null));
    const state = await runSaga(stubs, orderInput());
    expect(state.status).toBe('COMPLETED');
    expect(stubs.attempts.chargePayment).toBe(3);
    expect(stubs.compensations()).toEqual([]);
  });

  it('retries a failing compensation until it succeeds', async () => {
    const stubs = new StubServices();
    stubs.failWith('createShipment', () =>
      ApplicationFailure.nonRetryable('no carrier', ADDRESS_UNDELIVERABLE),
    );
    stubs.failWith('refundPayment', (attempt) => (attempt <= 3 ? new Error('ledger unavailable') : null));
    const state = await runSaga(stubs, orderInput());
    expect(state.status).toBe('FAILED');
    expect(stubs.attempts.refundPayment).toBe(4);
    expect(stubs.compensations()).toEqual(['cancelShipment', 'refundPayment', 'releaseStock']);
    expect(state.payment.status).toBe('REFUNDED');
    expect(state.steps.every((s) => s.name === 'commitStock' || s.status === 'COMPENSATED')).toBe(true);
  });

  it('a cancel while reserving compensates and ends CANCELLED without charging', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('reserveStock');
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      const result = await handle.executeUpdate(cancelOrderUpdate);
      expect(result).toEqual({ accepted: true, status: 'RESERVING' });
      expect((await handle.query(getOrderQuery)).cancelRequested).toBe(true);
      gate.release();
    });
    expect(state.status).toBe('CANCELLED');
    expect(state.failureReason).toBeNull();
    expect(stubs.calls).not.toContain('chargePayment');
    expect(stubs.compensations()).toEqual(undoneOnCancel(['releaseStock']));
  });

  it('a cancel once shipping has started is refused and the order completes', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('createShipment');
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      await expect(handle.executeUpdate(cancelOrderUpdate)).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      gate.release();
    });
    expect(state.status).toBe('COMPLETED');
    expect(stubs.compensations()).toEqual([]);
  });

  it('cancelling the workflow itself still runs compensations to the end', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      await handle.cancel();
      // The held charge finishes only after its compensation ran: the late-arrival case tombstones exist for.
      await until(() => stubs.calls.includes('releaseStock'));
      gate.release();
    });
    expect(state.status).toBe('CANCELLED');
    expect(stubs.compensations()).toEqual(undoneOnCancel(['refundPayment', 'releaseStock']));
  });

  it('a cancel interrupts a step stuck in transient retries', async () => {
    const stubs = new StubServices();
    stubs.failWith('chargePayment', () => new Error('provider down'));
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await until(() => (stubs.attempts.chargePayment ?? 0) >= 2);
      expect(await handle.executeUpdate(cancelOrderUpdate)).toEqual({ accepted: true, status: 'CHARGING' });
    });
    expect(state.status).toBe('CANCELLED');
    expect(stubs.compensations()).toEqual(undoneOnCancel(['refundPayment', 'releaseStock']));
    expect(state.steps.find((s) => s.name === 'chargePayment')?.error).toBe('cancelled');
  });

  it('cancelling the workflow once the shipment exists still completes the order', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('commitStock');
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      await handle.cancel();
      gate.release();
    });
    expect(state.status).toBe('COMPLETED');
    expect(stubs.compensations()).toEqual([]);
    expect(stubs.statuses.at(-1)).toBe('COMPLETED');
  });

  it('a cancel accepted while a step runs fails no workflow task; the step it interrupted is undone', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    const { state, handle } = await runStubSaga({
      env,
      bundlePath: inject('workflowBundlePath'),
      stubs,
      input: orderInput(),
      placement,
      drive: async (saga) => {
        await gate.reached;
        expect(await saga.executeUpdate(cancelOrderUpdate)).toEqual({ accepted: true, status: 'CHARGING' });
        // The step lands after the cancel was taken.
        gate.release();
      },
    });
    expect(state.status).toBe('CANCELLED');
    expect(stubs.compensations()).toEqual(undoneOnCancel(['refundPayment', 'releaseStock']));
    const failedTasks = (await handle.fetchHistory()).events?.filter(
      (event) => event.workflowTaskFailedEventAttributes,
    );
    expect(failedTasks?.map((event) => event.workflowTaskFailedEventAttributes?.failure?.message)).toEqual(
      [],
    );
  });

  it('while compensating, tells operators how many steps it undoes and clients which step is being undone', async () => {
    const stubs = new StubServices();
    stubs.failWith('chargePayment', () => ApplicationFailure.nonRetryable('declined', PAYMENT_DECLINED));
    const gate = stubs.hold('releaseStock');
    let seen: OrderState | undefined;
    let details: string | undefined;
    const state = await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      seen = await handle.query(getOrderQuery);
      details = (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata'))
        .currentDetails;
      gate.release();
    });
    expect(details).toBe('**COMPENSATING** — undoing 2 step(s) in reverse');
    expect(seen?.status).toBe('COMPENSATING');
    expect(seen?.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserveStock', 'COMPENSATING'],
      ['chargePayment', 'COMPENSATED'],
    ]);
    expect(state.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserveStock', 'COMPENSATED'],
      ['chargePayment', 'COMPENSATED'],
    ]);
  });

  it('shows the whole view of an order while its first step runs, its client included', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('reserveStock');
    const input = orderInput({ clientId: 'mobile-app' });
    let seen: OrderState | undefined;
    await runSaga(stubs, input, async (handle) => {
      await gate.reached;
      seen = await handle.query(getOrderQuery);
      gate.release();
    });
    expect(seen).toEqual({
      orderId: input.orderId,
      customerId: input.customerId,
      clientId: 'mobile-app',
      status: 'RESERVING',
      items: input.items,
      totalCents: input.totalCents,
      steps: [{ name: 'reserveStock', status: 'RUNNING', at: expect.any(String), error: null }],
      payment: { status: 'NONE', amountCents: 0 },
      shipment: { status: 'NONE', trackingId: null },
      failureReason: null,
      failureCode: null,
      cancelRequested: false,
      createdAt: input.createdAt,
      updatedAt: expect.any(String),
    });
  });

  it('exposes the live order through its query while a step runs', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    let seen: OrderState | undefined;
    await runSaga(stubs, orderInput(), async (handle) => {
      await gate.reached;
      seen = await handle.query(getOrderQuery);
      gate.release();
    });
    expect(seen?.status).toBe('CHARGING');
    expect(seen?.steps.map((s) => [s.name, s.status, s.error])).toEqual([
      ['reserveStock', 'SUCCEEDED', null],
      ['chargePayment', 'RUNNING', null],
    ]);
  });
});
