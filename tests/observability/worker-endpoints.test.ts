/** The worker process's HTTP server and its settings, without a Temporal server: readiness, metrics, ports. */
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { startWorkerHttpServer, workerReadiness } from '../../workers/health-server.js';

const down = async () => {
  throw new Error('connection refused');
};

describe('worker readiness', () => {
  it('is ready only when every worker runs and the database answers', async () => {
    const ok = await workerReadiness({ orders: 'RUNNING', payments: 'RUNNING' }, async () => undefined);
    expect(ok).toEqual({
      ready: true,
      checks: { 'worker:orders': 'ok', 'worker:payments': 'ok', database: 'ok' },
    });
    const draining = await workerReadiness(
      { orders: 'RUNNING', payments: 'DRAINING' },
      async () => undefined,
    );
    expect(draining).toMatchObject({ ready: false, checks: { 'worker:payments': 'DRAINING' } });
    const noDatabase = await workerReadiness({ orders: 'RUNNING' }, down);
    expect(noDatabase).toMatchObject({ ready: false, checks: { database: 'error: connection refused' } });
  });
});

describe('worker HTTP server', () => {
  it('serves /metrics from its registry, /healthz always, /readyz as 503 until ready', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'a probe', registers: [registry] }).inc(3);
    let ready = false;
    const server = await startWorkerHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      readiness: async () => ({ ready, checks: { 'worker:orders': ready ? 'ok' : 'STARTING' } }),
    });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain('probe_total 3');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({
        status: 'not ready',
        checks: { 'worker:orders': 'STARTING' },
      });
      ready = true;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('refuses to start on a port that is taken, naming it', async () => {
    const first = await startWorkerHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      readiness: async () => ({ ready: true, checks: {} }),
    });
    const port = Number(new URL(first.url).port);
    try {
      await expect(
        startWorkerHttpServer({
          host: '127.0.0.1',
          port,
          registry: new Registry(),
          readiness: async () => ({ ready: true, checks: {} }),
        }),
      ).rejects.toThrow(`127.0.0.1:${port}`);
    } finally {
      await first.close();
    }
  });
});

describe('observability settings (config.worker)', () => {
  const listen = (env: Record<string, string>) => {
    const { http, temporalMetrics } = loadConfig(env).worker;
    return { http, temporalMetrics };
  };

  it('gives each single-service process its own ports, several services the shared ones', () => {
    expect(listen({ WORKER_SERVICES: 'payments' })).toEqual({
      http: { host: '127.0.0.1', port: 9093 },
      temporalMetrics: { host: '127.0.0.1', port: 9467 },
    });
    expect(listen({ WORKER_SERVICES: 'shipping' }).http.port).toBe(9094);
    const several: Array<Record<string, string>> = [
      {},
      { WORKER_SERVICES: 'all' },
      { WORKER_SERVICES: 'orders,payments' },
    ];
    for (const services of several) {
      expect(listen(services)).toEqual({
        http: { host: '127.0.0.1', port: 9095 },
        temporalMetrics: { host: '127.0.0.1', port: 9464 },
      });
    }
  });

  it('takes ports and hosts from the environment; SDK port 0 turns the exporter off', () => {
    const env = {
      WORKER_SERVICES: 'orders',
      WORKER_HTTP_HOST: '0.0.0.0',
      WORKER_HTTP_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
    };
    expect(listen(env)).toEqual({ http: { host: '0.0.0.0', port: 0 }, temporalMetrics: null });
    expect(listen({ TEMPORAL_METRICS_HOST: '::', TEMPORAL_METRICS_PORT: '9999' }).temporalMetrics).toEqual({
      host: '::',
      port: 9999,
    });
    expect(() => listen({ WORKER_HTTP_PORT: 'http' })).toThrow(/\n {2}WORKER_HTTP_PORT: /);
  });
});
