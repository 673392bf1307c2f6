/** The orders activities report an order started or finished only from the write that made it so, never twice. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersActivities, failureLabel } from '../../activities/orders.js';
import { type SagaEvent, withSagaEventSink } from '../../core/saga-events.js';
import {
  createTestDatabase,
  DATABASE_HOOK_TIMEOUT_MS,
  type TestDatabase,
} from '../../harness/throwaway-database.js';
import { runActivity, uniqueId } from '../activities/helpers.js';

let handle: TestDatabase;
let activities: ReturnType<typeof createOrdersActivities>;

beforeAll(async () => {
  handle = await createTestDatabase('pglite');
  activities = createOrdersActivities({ db: handle.db });
}, DATABASE_HOOK_TIMEOUT_MS);
afterAll(async () => {
  await handle?.close();
}, DATABASE_HOOK_TIMEOUT_MS);

/** Runs `calls` with a sink bound, as the worker's interceptor does, and returns what they reported. */
async function eventsOf(calls: () => Promise<void>): Promise<SagaEvent[]> {
  const events: SagaEvent[] = [];
  await withSagaEventSink({ record: (event) => events.push(event) }, calls);
  return events;
}

const record = (orderId: string) =>
  runActivity(activities.createOrderRecord, {
    orderId,
    customerId: 'cust-1',
    items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1299 }],
    totalCents: 1299,
    createdAt: new Date(Date.now() - 2_000).toISOString(),
  });

describe('order events', () => {
  it('counts an order as started once, however often its row is written', async () => {
    const orderId = uniqueId('ord');
    const events = await eventsOf(async () => {
      await record(orderId);
      await record(orderId);
    });
    expect(events).toEqual([{ kind: 'orderStarted', orderId }]);
  });

  it('counts an order as finished only on the write that made it terminal, with its bounded reason', async () => {
    const orderId = uniqueId('ord');
    await record(orderId);
    const events = await eventsOf(async () => {
      await runActivity(activities.setOrderStatus, { orderId, status: 'RESERVING', seq: 1 });
      await runActivity(activities.setOrderStatus, { orderId, status: 'COMPENSATING', seq: 2 });
      const failed = {
        orderId,
        status: 'FAILED' as const,
        seq: 3,
        failureReason: 'card declined',
        failureCode: 'PaymentDeclined',
      };
      await runActivity(activities.setOrderStatus, failed);
      await runActivity(activities.setOrderStatus, failed);
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'orderFinished',
      orderId,
      outcome: 'failed',
      reason: 'PaymentDeclined',
    });
    const duration = (events[0] as { durationSeconds: number }).durationSeconds;
    expect(duration).toBeGreaterThanOrEqual(2);
    expect(duration).toBeLessThan(60);
  });

  it("counts an order recorded by the saga's first status write as started once, and never again for one recorded before", async () => {
    const orderId = uniqueId('ord');
    const createdAt = new Date(Date.now() - 1_000).toISOString();
    const view = {
      orderId,
      customerId: 'cust-1',
      status: 'RESERVING' as const,
      items: [{ sku: 'MUG-RED', quantity: 1, unitPriceCents: 1299 }],
      totalCents: 1299,
      steps: [],
      payment: { status: 'NONE' as const, amountCents: 0 },
      shipment: { status: 'NONE' as const, trackingId: null },
      failureReason: null,
      failureCode: null,
      cancelRequested: false,
      createdAt,
      updatedAt: createdAt,
    };
    const first = { orderId, status: 'RESERVING' as const, seq: 1, view, firstWrite: {} };
    const events = await eventsOf(async () => {
      await runActivity(activities.setOrderStatus, first);
      await runActivity(activities.setOrderStatus, first);
    });
    expect(events).toEqual([{ kind: 'orderStarted', orderId }]);

    // The row already existed (an earlier createOrderRecord): that write counted the start.
    const recorded = uniqueId('ord');
    await record(recorded);
    const later = await eventsOf(() =>
      runActivity(activities.setOrderStatus, {
        ...first,
        orderId: recorded,
        view: { ...view, orderId: recorded },
      }),
    );
    expect(later).toEqual([]);
  });

  it('counts a compensation that failed for good as stuck once, not as an end', async () => {
    const orderId = uniqueId('ord');
    await record(orderId);
    const stuck = { orderId, status: 'COMPENSATION_FAILED' as const, seq: 3 };
    const events = await eventsOf(async () => {
      await runActivity(activities.setOrderStatus, stuck);
      await runActivity(activities.setOrderStatus, stuck);
    });
    expect(events).toEqual([{ kind: 'compensationStuck', orderId }]);
  });

  it('gives completed and cancelled orders no reason', async () => {
    const [done, cancelled] = [uniqueId('ord'), uniqueId('ord')];
    await record(done);
    await record(cancelled);
    const events = await eventsOf(async () => {
      await runActivity(activities.setOrderStatus, { orderId: done, status: 'COMPLETED', seq: 5 });
      await runActivity(activities.setOrderStatus, { orderId: cancelled, status: 'CANCELLED', seq: 4 });
    });
    expect(events.map((e) => e.kind === 'orderFinished' && [e.outcome, e.reason])).toEqual([
      ['completed', null],
      ['cancelled', null],
    ]);
  });
});

describe('failure codes', () => {
  it('labels a failed order with the code the saga passed; a missing or malformed one is "other"', () => {
    expect(failureLabel('PaymentDeclined')).toBe('PaymentDeclined');
    expect(failureLabel('StepVoided')).toBe('StepVoided');
    expect(failureLabel(null)).toBe('other');
    expect(failureLabel(undefined)).toBe('other');
    // Never free text as a label: cardinality stays bounded whatever a failure says.
    expect(failureLabel('card declined for cust-42')).toBe('other');
    expect(failureLabel('x'.repeat(49))).toBe('other');
  });
});
