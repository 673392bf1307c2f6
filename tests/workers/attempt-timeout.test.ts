/**
 * An attempt whose work outlives its start-to-close timeout (the server has timed it out and scheduled a retry) is
 * ended by the worker at that timeout, with a retryable AttemptAbandoned failure, logged and counted, so it never
 * holds its slot past it; its work may still finish, harmlessly. An attempt that ends in time is left alone, and the
 * overrun watch (an attempt still running 5 s past its timeout) stays silent for both.
 */
import { ApplicationFailure, type LogLevel, type LogMetadata } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_ABANDONED,
  activityMetricsInterceptor,
  OVERRUN_MARGIN_MS,
} from '../../workers/activity-metrics-interceptor.js';
import { sagaMetricsIn } from '../../workers/metrics.js';

function environment(startToCloseTimeoutMs: number) {
  const registry = new Registry();
  const metrics = sagaMetricsIn(registry);
  const lines: Array<{ level: LogLevel; message: string; meta?: LogMetadata }> = [];
  const logger = {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => lines.push({ level, message, meta }),
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (message: string, meta?: LogMetadata) => lines.push({ level: 'WARN', message, meta }),
    error: () => {},
  };
  const env = new MockActivityEnvironment(
    { activityType: 'chargePayment', startToCloseTimeoutMs, attempt: 3 },
    { interceptors: [activityMetricsInterceptor('payments', metrics)], logger },
  );
  const valuesOf = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return {
    env,
    lines,
    overruns: () => valuesOf('saga_activity_overruns_total'),
    abandoned: () => valuesOf('saga_activity_attempts_abandoned_total'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attempts and their start-to-close timeout', () => {
  it('ends an attempt whose work outlives its timeout, at the timeout, and lets the work finish harmlessly', async () => {
    const timeoutMs = 300;
    const { env, lines, abandoned, overruns } = environment(timeoutMs);
    let workFinished = false;
    const started = Date.now();
    const failure = await env
      .run(async () => {
        await sleep(timeoutMs + 700);
        workFinished = true;
        throw new Error('late failure of abandoned work');
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const endedAfter = Date.now() - started;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(ATTEMPT_ABANDONED);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect(endedAfter).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(endedAfter).toBeLessThan(timeoutMs + 500);
    expect(workFinished).toBe(false);
    expect(lines.filter((l) => l.message.includes('abandoned'))).toEqual([
      expect.objectContaining({
        meta: expect.objectContaining({ activity: 'chargePayment', attempt: 3, timeoutMs }),
      }),
    ]);
    expect(await abandoned()).toEqual([
      expect.objectContaining({ labels: { service: 'payments', activity: 'chargePayment' }, value: 1 }),
    ]);
    // The work goes on and fails later: no unhandled rejection, and no overrun, since the attempt ended.
    await sleep(OVERRUN_MARGIN_MS + 1_000);
    expect(workFinished).toBe(true);
    expect(lines.filter((l) => l.message.includes('overran'))).toEqual([]);
    expect((await overruns()).filter((v) => v.value > 0)).toEqual([]);
  }, 15_000);

  it('leaves an attempt that ends within its timeout alone, success or failure', async () => {
    const { env, lines, abandoned } = environment(500);
    expect(await env.run(async () => sleep(50).then(() => 'done'))).toBe('done');
    await expect(env.run(async () => Promise.reject(new Error('declined')))).rejects.toThrow('declined');
    await sleep(700);
    expect(lines.filter((l) => /abandoned|overran/.test(l.message))).toEqual([]);
    expect((await abandoned()).filter((v) => v.value > 0)).toEqual([]);
  });
});
