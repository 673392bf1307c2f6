/** Fault injection: a passthrough when off, a guaranteed transient failure at rate 1, latency before each attempt. */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it, vi } from 'vitest';
import { withFaults } from '../../activities/faults.js';

function fakeActivities() {
  return {
    reserveStock: vi.fn(async (input: { orderId: string }) => `reserved ${input.orderId}`),
    releaseStock: vi.fn(async (input: { orderId: string }) => `released ${input.orderId}`),
  };
}

describe('withFaults', () => {
  it('returns the very same object when rate and latency are 0', () => {
    const activities = fakeActivities();
    expect(withFaults(activities, { rate: 0, latencyMs: 0 })).toBe(activities);
  });

  it('fails every attempt at rate 1 with a retryable error naming the activity, before running it', async () => {
    const activities = fakeActivities();
    const faulty = withFaults(activities, { rate: 1, latencyMs: 0 });

    for (let i = 0; i < 20; i += 1) {
      const error = await faulty.reserveStock({ orderId: 'o1' }).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect((error as Error).message).toBe('injected transient fault in reserveStock');
    }
    await expect(faulty.releaseStock({ orderId: 'o1' })).rejects.toThrow(
      'injected transient fault in releaseStock',
    );
    expect(activities.reserveStock).not.toHaveBeenCalled();
  });

  it('at afterRate 1 runs the activity, then fails the attempt as a lost completion', async () => {
    const activities = fakeActivities();
    const faulty = withFaults(activities, { rate: 0, afterRate: 1, latencyMs: 0 });
    await expect(faulty.reserveStock({ orderId: 'o1' })).rejects.toThrow(
      'injected lost completion in reserveStock',
    );
    expect(activities.reserveStock).toHaveBeenCalledTimes(1);
  });

  it('fails exactly when the random draw falls under the rate', async () => {
    const activities = fakeActivities();
    const draws = [0.1, 0.9];
    const faulty = withFaults(activities, { rate: 0.5, latencyMs: 0, random: () => draws.shift() ?? 1 });

    await expect(faulty.reserveStock({ orderId: 'o1' })).rejects.toThrow('injected transient fault');
    await expect(faulty.reserveStock({ orderId: 'o2' })).resolves.toBe('reserved o2');
    expect(activities.reserveStock).toHaveBeenCalledTimes(1);
  });

  it('waits the latency before each attempt and then passes arguments and results through', async () => {
    const activities = fakeActivities();
    const faulty = withFaults(activities, { rate: 0, latencyMs: 60 });
    expect(faulty).not.toBe(activities);

    const started = performance.now();
    await expect(faulty.releaseStock({ orderId: 'o3' })).resolves.toBe('released o3');

    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(activities.releaseStock).toHaveBeenCalledWith({ orderId: 'o3' });
  });
});
