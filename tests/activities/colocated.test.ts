/** The colocated worker's announceAndRun: the status write first, the step only after it committed. */
import { describe, expect, it } from 'vitest';
import { createColocatedActivities, type ServiceActivities } from '../../activities/colocated.js';
import type { SetOrderStatusInput } from '../../contracts/orders.js';

const status: SetOrderStatusInput = { orderId: 'ord_1', status: 'CHARGING', seq: 2 };

function services(calls: string[], failWrite = false): ServiceActivities {
  return {
    async setOrderStatus(input) {
      calls.push(`setOrderStatus ${input.status} ${input.seq}`);
      if (failWrite) throw new Error('database refused the write');
    },
    async reserveStock(input) {
      calls.push(`reserveStock ${input.orderId}`);
      return { status: 'RESERVED' } as Awaited<ReturnType<ServiceActivities['reserveStock']>>;
    },
    async chargePayment(input) {
      calls.push(`chargePayment ${input.amountCents}`);
      return { status: 'CHARGED', amountCents: input.amountCents } as Awaited<
        ReturnType<ServiceActivities['chargePayment']>
      >;
    },
    async createShipment(input) {
      calls.push(`createShipment ${input.address.country}`);
      return { status: 'CREATED', trackingId: 'T1' } as Awaited<
        ReturnType<ServiceActivities['createShipment']>
      >;
    },
  };
}

describe('announceAndRun', () => {
  it('writes the status, then runs the step it announces with its input, and returns its result', async () => {
    const calls: string[] = [];
    const { announceAndRun } = createColocatedActivities(services(calls));
    const result = await announceAndRun({
      status,
      step: { name: 'chargePayment', input: { orderId: 'ord_1', amountCents: 1299, paymentToken: 'tok_ok' } },
    });
    expect(result).toEqual({ status: 'CHARGED', amountCents: 1299 });
    expect(calls).toEqual(['setOrderStatus CHARGING 2', 'chargePayment 1299']);
    await announceAndRun({
      status: { ...status, status: 'SHIPPING', seq: 3 },
      step: {
        name: 'createShipment',
        input: {
          orderId: 'ord_1',
          address: { name: 'A', line1: '1 B', city: 'C', postalCode: 'D', country: 'GB' },
        },
      },
    });
    await announceAndRun({
      status: { ...status, status: 'RESERVING', seq: 1 },
      step: { name: 'reserveStock', input: { orderId: 'ord_1', items: [{ sku: 'MUG-RED', quantity: 1 }] } },
    });
    expect(calls.slice(2)).toEqual([
      'setOrderStatus SHIPPING 3',
      'createShipment GB',
      'setOrderStatus RESERVING 1',
      'reserveStock ord_1',
    ]);
  });

  it('runs no step when its status write fails', async () => {
    const calls: string[] = [];
    const { announceAndRun } = createColocatedActivities(services(calls, true));
    await expect(
      announceAndRun({
        status,
        step: {
          name: 'chargePayment',
          input: { orderId: 'ord_1', amountCents: 1299, paymentToken: 'tok_ok' },
        },
      }),
    ).rejects.toThrow(/refused/);
    expect(calls).toEqual(['setOrderStatus CHARGING 2']);
  });
});
