/**
 * What an operator sees of an order in the Temporal Web UI and in visibility queries: each activity (or local
 * activity marker) says what it does for which order, the OrderStatus search attribute follows the order (a colocated
 * one only at the ends of its path, which it passes inside one workflow task), the customer is searchable, and an
 * order the API started with its attributes set is not upserted with the same values again.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OrderInput, SAGA_PLACEMENTS } from '../../contracts/orders.js';
import { PAYMENT_DECLINED } from '../../contracts/payments.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../../contracts/search-attributes.js';
import { ADDRESS_UNDELIVERABLE } from '../../contracts/shipping.js';
import {
  cancelOrderUpdate,
  resolveCompensationsUpdate,
  retryCompensationsUpdate,
} from '../../workflows/definitions.js';
import { workflowLogs } from '../support/quiet-runtime.js';
import { runStubSaga, startSagaTestEnvironment, stubOrderInput, until } from '../support/stub-saga.js';
import { StubServices } from '../support/stub-services.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startSagaTestEnvironment(inject('temporalTestServer'));
});

afterAll(async () => {
  await env?.teardown();
});

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The events of the order's history, once it ended. */
async function eventsOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** The summaries of the history's events, in order (activities scheduled, local activities' markers). */
function summariesIn(events: HistoryEvent[]): string[] {
  return events.flatMap((event) => {
    const summary = event.userMetadata?.summary;
    return summary ? [defaultPayloadConverter.fromPayload<string>(summary)] : [];
  });
}

/** The line the Web UI shows under the workflow: what it is doing now. */
async function detailsOf(handle: WorkflowHandle): Promise<string | undefined> {
  return (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails;
}

/** Every value the saga upserted for `name`, in order. */
function upsertsIn(events: HistoryEvent[], name: string): unknown[] {
  return events.flatMap((event) => {
    const field =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[name];
    return field ? [defaultPayloadConverter.fromPayload(field)] : [];
  });
}

/** What the saga logged about one order: level, message and the fields it gave (not the SDK's or the trace's). */
function logOf(orderId: string) {
  const sdkFields = [
    'namespace',
    'taskQueue',
    'workflowId',
    'runId',
    'workflowType',
    'sdkComponent',
    'updateId',
    'updateName',
  ];
  const traceFields = ['trace_id', 'span_id', 'trace_flags'];
  return workflowLogs
    .filter((entry) => entry.meta?.orderId === orderId)
    .map(({ level, message, meta }) => ({
      level,
      message,
      meta: Object.fromEntries(
        Object.entries(meta ?? {}).filter(([key]) => !sdkFields.includes(key) && !traceFields.includes(key)),
      ),
    }));
}

describe.each(SAGA_PLACEMENTS)('what operators see of an order (%s)', (placement) => {
  const colocated = placement === 'colocated';
  /** One order of this placement; `started`: with the search attributes the API starts it with. */
  const run = (
    stubs: StubServices,
    input: OrderInput,
    { started = false, drive }: { started?: boolean; drive?: (handle: WorkflowHandle) => Promise<void> } = {},
  ) =>
    runStubSaga({
      env,
      bundlePath: inject('workflowBundlePath'),
      stubs,
      input,
      placement,
      ...(drive ? { drive } : {}),
      ...(started
        ? {
            typedSearchAttributes: [
              { key: ORDER_STATUS_KEY, value: 'PENDING' },
              { key: CUSTOMER_ID_KEY, value: input.customerId },
            ],
          }
        : {}),
    });

  it('each step of a completed order says what it does, and for which order', async () => {
    const input = stubOrderInput({
      items: [
        { sku: 'MUG-RED', quantity: 2, unitPriceCents: 1000 },
        { sku: 'TEE-BLUE', quantity: 3, unitPriceCents: 500 },
      ],
      totalCents: 3500,
    });
    const { orderId } = input;
    const { handle } = await run(new StubServices(), input);
    const steps = [
      `inventory: reserve 5 units of 2 SKUs for order ${orderId}`,
      `payments: charge 3500 cents for order ${orderId}`,
      `shipping: create shipment for order ${orderId}`,
    ];
    const statuses = ['RESERVING', 'CHARGING', 'SHIPPING'].map((s) => `orders: order ${orderId} is ${s}`);
    const forward = colocated
      ? steps.map((step, i) => `${statuses[i]}, then ${step}`)
      : steps.flatMap((step, i) => [statuses[i], step]);
    expect(summariesIn(await eventsOf(handle))).toEqual([
      ...forward,
      `inventory: commit stock of order ${orderId}`,
      `orders: order ${orderId} is COMPLETED`,
    ]);
  });

  it('each compensation says it is one, in the order it ran', async () => {
    const stubs = new StubServices();
    stubs.failWith('createShipment', () =>
      ApplicationFailure.nonRetryable('no such street', ADDRESS_UNDELIVERABLE),
    );
    const input = stubOrderInput();
    const { orderId } = input;
    const { state, handle } = await run(stubs, input);
    expect(state.status).toBe('FAILED');
    const summaries = summariesIn(await eventsOf(handle));
    expect(summaries.slice(summaries.indexOf(`orders: order ${orderId} is COMPENSATING`))).toEqual([
      `orders: order ${orderId} is COMPENSATING`,
      `shipping: cancel shipment of order ${orderId} (compensation)`,
      `payments: refund order ${orderId} (compensation)`,
      `inventory: release stock of order ${orderId} (compensation)`,
      `orders: order ${orderId} is FAILED`,
    ]);
  });

  it('keeps the OrderStatus search attribute on the status the order is in, and the customer searchable', async () => {
    const input = stubOrderInput({ customerId: 'cust-visible' });
    const { handle } = await run(new StubServices(), input);
    // A colocated order passes its forward statuses inside one workflow task: only its ends are visible.
    expect(upsertsIn(await eventsOf(handle), ORDER_STATUS_KEY.name)).toEqual(
      colocated ? ['PENDING', 'COMPLETED'] : ['PENDING', 'RESERVING', 'CHARGING', 'SHIPPING', 'COMPLETED'],
    );
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(ORDER_STATUS_KEY)).toBe('COMPLETED');
    expect(typedSearchAttributes.get(CUSTOMER_ID_KEY)).toBe('cust-visible');
  });

  it('does not upsert what the API started the order with', async () => {
    const input = stubOrderInput({ customerId: 'cust-started' });
    const { handle } = await run(new StubServices(), input, { started: true });
    const events = await eventsOf(handle);
    expect(upsertsIn(events, CUSTOMER_ID_KEY.name)).toEqual([]);
    expect(upsertsIn(events, ORDER_STATUS_KEY.name)[0]).toEqual(colocated ? 'COMPLETED' : 'RESERVING');
    expect((await handle.describe()).typedSearchAttributes.get(CUSTOMER_ID_KEY)).toBe('cust-started');
  });

  it("tells the worker's log how each order ended, why it compensated, and what a cancel or an operator did", async () => {
    const done = stubOrderInput();
    await run(new StubServices(), done);
    expect(logOf(done.orderId)).toEqual([
      { level: 'INFO', message: 'order completed', meta: { orderId: done.orderId } },
    ]);

    const declined = new StubServices();
    declined.failWith('chargePayment', () =>
      ApplicationFailure.nonRetryable('card declined', PAYMENT_DECLINED),
    );
    const failed = stubOrderInput();
    await run(declined, failed);
    expect(logOf(failed.orderId)).toEqual([
      {
        level: 'WARN',
        message: 'order compensating',
        meta: { orderId: failed.orderId, cancelled: false, failureCode: PAYMENT_DECLINED },
      },
    ]);

    const held = new StubServices();
    const gate = held.hold('reserveStock');
    const cancelled = stubOrderInput();
    await run(held, cancelled, {
      drive: async (handle) => {
        await gate.reached;
        await handle.executeUpdate(cancelOrderUpdate);
        gate.release();
      },
    });
    expect(logOf(cancelled.orderId)).toEqual([
      {
        level: 'INFO',
        message: 'cancel accepted',
        meta: { orderId: cancelled.orderId, status: 'RESERVING' },
      },
      {
        level: 'WARN',
        message: 'order compensating',
        // The SDK's log leaves out a field that is null: a cancel has no failure code.
        meta: { orderId: cancelled.orderId, cancelled: true },
      },
    ]);
  });

  it("tells the worker's log which compensation waits for an operator, and what the operator decided", async () => {
    for (const decision of ['retry', 'resolve'] as const) {
      const stubs = new StubServices();
      stubs.failWith('createShipment', () =>
        ApplicationFailure.nonRetryable('no such street', ADDRESS_UNDELIVERABLE),
      );
      let refunds = 0;
      stubs.failWith('refundPayment', () => {
        refunds += 1;
        return refunds === 1 ? ApplicationFailure.nonRetryable('refund refused', 'RefundRejected') : null;
      });
      const input = stubOrderInput();
      await run(stubs, input, {
        drive: async (handle) => {
          await until(() => stubs.statuses.includes('COMPENSATION_FAILED'), 20_000);
          if (decision === 'retry') await handle.executeUpdate(retryCompensationsUpdate);
          else
            await handle.executeUpdate(resolveCompensationsUpdate, { args: [{ note: 'refunded by hand' }] });
        },
      });
      const { orderId } = input;
      expect(logOf(orderId).slice(1)).toEqual([
        {
          level: 'ERROR',
          message: 'compensation failed for good; waiting for an operator',
          meta: { orderId, steps: ['chargePayment'] },
        },
        {
          level: 'INFO',
          message:
            decision === 'retry'
              ? 'operator retries compensations'
              : 'operator resolved compensations by hand',
          meta: { orderId, steps: ['chargePayment'] },
        },
      ]);
    }
  });

  it('shows, while each step runs, what the order waits on, and at its end that it is done', async () => {
    const stubs = new StubServices();
    const gates = (['reserveStock', 'chargePayment', 'createShipment'] as const).map((step) =>
      stubs.hold(step),
    );
    const seen: Array<string | undefined> = [];
    let ended: string | undefined;
    const input = stubOrderInput({
      totalCents: 2000,
      shippingAddress: { ...stubOrderInput().shippingAddress, country: 'NZ' },
    });
    await run(stubs, input, {
      drive: async (running) => {
        for (const gate of gates) {
          await gate.reached;
          seen.push(await detailsOf(running));
          gate.release();
        }
        // Queried while the workers still run: a closed workflow's query needs one.
        await running.result();
        ended = await detailsOf(running);
      },
    });
    expect(seen).toEqual([
      '**RESERVING** — inventory: reserving 2 units',
      '**CHARGING** — payments: charging 2000 cents',
      '**SHIPPING** — shipping: creating shipment to NZ',
    ]);
    expect(ended).toBe('**COMPLETED** — done');
  });

  it('shows a compensation that waits for an operator, and what to run', async () => {
    const stubs = new StubServices();
    stubs.failWith('createShipment', () =>
      ApplicationFailure.nonRetryable('no such street', ADDRESS_UNDELIVERABLE),
    );
    stubs.failWith('refundPayment', () =>
      ApplicationFailure.nonRetryable('refund refused', 'RefundRejected'),
    );
    let waiting: string | undefined;
    let ended: string | undefined;
    await run(stubs, stubOrderInput(), {
      drive: async (running) => {
        await until(() => stubs.statuses.includes('COMPENSATION_FAILED'), 20_000);
        waiting = await detailsOf(running);
        await running.executeUpdate(resolveCompensationsUpdate, { args: [{ note: 'refunded by hand' }] });
        await running.result();
        ended = await detailsOf(running);
      },
    });
    expect(waiting).toBe(
      '**COMPENSATION_FAILED** — compensation of chargePayment failed: run the retryCompensations or resolveCompensations update',
    );
    expect(ended).toBe('**FAILED** — done');
  });
});
