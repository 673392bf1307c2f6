/**
 * What the saga sends each service and when it stops, against stubs that record every input: each step and each
 * compensation gets this order's own data, status writes are numbered in order, a cancel that lands between two steps
 * stops before the next one, a second cancel changes nothing, an accepted cancel wins a race with a business failure,
 * and a bug in the saga's own handling stalls the order instead of compensating it as if the business had failed.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OrderInput, SAGA_PLACEMENTS } from '../../contracts/orders.js';
import { PAYMENT_DECLINED } from '../../contracts/payments.js';
import { cancelOrderUpdate } from '../../workflows/definitions.js';
import { runStubSaga, startSagaTestEnvironment, stubOrderInput } from '../support/stub-saga.js';
import { StubServices } from '../support/stub-services.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startSagaTestEnvironment(inject('temporalTestServer'));
});

afterAll(async () => {
  await env?.teardown();
});

describe.each(SAGA_PLACEMENTS)('the saga as its services see it (%s)', (placement) => {
  const run = (stubs: StubServices, input: OrderInput, drive?: Parameters<typeof runStubSaga>[0]['drive']) =>
    runStubSaga({
      env,
      bundlePath: inject('workflowBundlePath'),
      stubs,
      input,
      placement,
      ...(drive ? { drive } : {}),
    });

  it("sends every step this order's own data, and numbers its status writes in order", async () => {
    const stubs = new StubServices();
    const input = stubOrderInput({
      items: [
        { sku: 'MUG-RED', quantity: 2, unitPriceCents: 1000 },
        { sku: 'TEE-BLUE', quantity: 1, unitPriceCents: 2500 },
      ],
      totalCents: 4500,
      paymentToken: 'tok_visa',
    });
    const { state } = await run(stubs, input);
    expect(state.status).toBe('COMPLETED');
    const { orderId } = input;
    expect(stubs.inputsOf('reserveStock')).toEqual([
      {
        orderId,
        items: [
          { sku: 'MUG-RED', quantity: 2 },
          { sku: 'TEE-BLUE', quantity: 1 },
        ],
      },
    ]);
    expect(stubs.inputsOf('chargePayment')).toEqual([
      { orderId, amountCents: 4500, paymentToken: 'tok_visa' },
    ]);
    expect(stubs.inputsOf('createShipment')).toEqual([{ orderId, address: input.shippingAddress }]);
    expect(stubs.inputsOf('commitStock')).toEqual([{ orderId }]);
    expect(state.payment).toEqual({ status: 'CHARGED', amountCents: 4500 });
    expect(state.shipment).toEqual({ status: 'CREATED', trackingId: `trk_${orderId}` });
    // Readers keep the write with the highest seq: the writes must count up from one, one by one.
    const writes = stubs.statusWrites.filter((write) => write.orderId === orderId);
    expect(writes.map((write) => write.seq)).toEqual(writes.map((_, i) => i + 1));
    expect(writes.at(-1)).toMatchObject({ status: 'COMPLETED', view: { status: 'COMPLETED' } });
  });

  it("undoes each step with this order's id, in reverse", async () => {
    const stubs = new StubServices();
    stubs.failWith('commitStock', () =>
      ApplicationFailure.create({ message: 'stock vanished', type: 'StockMismatch', nonRetryable: true }),
    );
    const input = stubOrderInput();
    const { state } = await run(stubs, input);
    expect(state.status).toBe('FAILED');
    const { orderId } = input;
    expect(stubs.compensations()).toEqual(['cancelShipment', 'refundPayment', 'releaseStock']);
    for (const name of ['cancelShipment', 'refundPayment', 'releaseStock'] as const) {
      expect(stubs.inputsOf(name), name).toEqual([{ orderId }]);
    }
    expect(state.payment.status).toBe('REFUNDED');
    expect(state.shipment.status).toBe('CANCELLED');
  });

  it('an accepted cancel wins a business failure that raced it: CANCELLED, no failure reason', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    stubs.failWith('chargePayment', () =>
      ApplicationFailure.create({ message: 'card declined', type: PAYMENT_DECLINED, nonRetryable: true }),
    );
    const { state } = await run(stubs, stubOrderInput(), async (handle) => {
      await gate.reached;
      expect(await handle.executeUpdate(cancelOrderUpdate)).toEqual({ accepted: true, status: 'CHARGING' });
      gate.release();
    });
    expect(state.status).toBe('CANCELLED');
    expect(state.failureReason).toBeNull();
    expect(state.failureCode).toBeNull();
    expect(stubs.calls).not.toContain('createShipment');
  });
});

describe('cancels landing between steps (distributed: the status write and the step are separate activities)', () => {
  const runDistributed = (stubs: StubServices, drive: Parameters<typeof runStubSaga>[0]['drive']) =>
    runStubSaga({
      env,
      bundlePath: inject('workflowBundlePath'),
      stubs,
      input: stubOrderInput(),
      ...(drive ? { drive } : {}),
    });

  // The status write is a local activity: the update reaches the saga with the task's heartbeat (~8 s), while the
  // write is still held, so the cancel lands after the reservation and before the charge starts.
  it('accepted during the status write before charging: nothing is charged, the reservation is undone', async () => {
    const stubs = new StubServices();
    const gate = stubs.holdStatus('CHARGING');
    const { state } = await runDistributed(stubs, async (handle) => {
      await gate.reached;
      expect(await handle.executeUpdate(cancelOrderUpdate)).toEqual({ accepted: true, status: 'CHARGING' });
      gate.release();
    });
    expect(state.status).toBe('CANCELLED');
    expect(stubs.calls).not.toContain('chargePayment');
    expect(stubs.compensations()).toEqual(['releaseStock']);
    expect(state.payment.status).not.toBe('CHARGED');
  });

  it('a second cancel is accepted again and undoes nothing twice', async () => {
    const stubs = new StubServices();
    const gate = stubs.hold('chargePayment');
    const { state } = await runDistributed(stubs, async (handle) => {
      await gate.reached;
      expect(await handle.executeUpdate(cancelOrderUpdate)).toEqual({ accepted: true, status: 'CHARGING' });
      expect(await handle.executeUpdate(cancelOrderUpdate)).toMatchObject({ accepted: true });
      gate.release();
    });
    expect(state.status).toBe('CANCELLED');
    expect(stubs.compensations()).toEqual(['refundPayment', 'releaseStock']);
  });
});

describe("a bug in the saga's own handling", () => {
  it('stalls the order with a failed workflow task (for a fix and a retry), never a compensated FAILED', async () => {
    const stubs = new StubServices();
    // An answer the saga cannot read: reading its status throws a TypeError in workflow code.
    stubs.answerWith('reserveStock', () => null);
    let failedTasks = 0;
    await expect(
      runStubSaga({
        env,
        bundlePath: inject('workflowBundlePath'),
        stubs,
        input: stubOrderInput(),
        drive: async (handle) => {
          const deadline = Date.now() + 20_000;
          while (failedTasks === 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            const events = (await handle.fetchHistory()).events ?? [];
            failedTasks = events.filter((event) => event.workflowTaskFailedEventAttributes).length;
          }
          await handle.terminate('test over');
        },
      }),
    ).rejects.toThrow('test over');
    expect(failedTasks).toBeGreaterThan(0);
    expect(stubs.statuses.at(-1)).toBe('RESERVING');
    expect(stubs.compensations()).toEqual([]);
  });
});
