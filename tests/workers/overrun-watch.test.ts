/**
 * The workers' overrun watch: an attempt still running 5 s past its start-to-close timeout (the server has timed it
 * out and retried it; here it still holds a slot, maybe a connection) is logged and counted once, while it runs;
 * one that ends in time is not.
 */
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { activityMetricsInterceptor, OVERRUN_MARGIN_MS } from '../../workers/activity-metrics-interceptor.js';
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
  const overruns = async () =>
    (await registry.getSingleMetric('saga_activity_overruns_total')?.get())?.values ?? [];
  return { env, lines, overruns };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('activity overrun watch', () => {
  it('logs and counts an attempt still running past its timeout + margin, once, before it ends', async () => {
    const timeoutMs = 200;
    const { env, lines, overruns } = environment(timeoutMs);
    let seenWhileRunning: unknown[] = [];
    await env.run(async () => {
      await sleep(timeoutMs + OVERRUN_MARGIN_MS + 300);
      seenWhileRunning = lines.filter((l) => l.message.includes('overran'));
      await sleep(300);
    });
    expect(seenWhileRunning).toHaveLength(1);
    expect(lines.filter((l) => l.message.includes('overran'))).toHaveLength(1);
    expect(lines[0]?.meta).toMatchObject({ activity: 'chargePayment', attempt: 3, timeoutMs });
    expect(await overruns()).toEqual([
      expect.objectContaining({ labels: { service: 'payments', activity: 'chargePayment' }, value: 1 }),
    ]);
  }, 15_000);

  it('says nothing of an attempt that ends within its timeout + margin, even a failed one', async () => {
    const { env, lines, overruns } = environment(100);
    await env.run(async () => sleep(50));
    await expect(env.run(async () => Promise.reject(new Error('declined')))).rejects.toThrow('declined');
    await sleep(OVERRUN_MARGIN_MS + 300);
    expect(lines.filter((l) => l.message.includes('overran'))).toEqual([]);
    expect((await overruns()).filter((v) => v.value > 0)).toEqual([]);
  }, 15_000);
});
