/** API hardening: security headers, request ids, no internals in production answers, production refusing weak config. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';
import { bodyOf, offlineApp } from './test-app.js';

const keys = formatPayloadKeys([generatePayloadKey('k1')]);
/** Production refuses keys under 32 characters. */
const CLIENT_KEY = 'hardening-client-key-0123456789abcdef';
const production = {
  NODE_ENV: 'production',
  API_KEYS: `shop:${CLIENT_KEY}`,
  API_CURSOR_SECRET: 'a-cursor-secret-for-tests',
  PAYLOAD_KEYS: keys,
};
const bearer = { authorization: `Bearer ${CLIENT_KEY}` };

describe('security headers', () => {
  it('every answer carries them, the docs page included, with a CSP that allows no inline script', async () => {
    const { app } = offlineApp(production);
    for (const path of ['/healthz', '/docs', '/no-such-route']) {
      const res = await app.request(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).not.toContain('unsafe-');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    // The docs page must work under that CSP: no inline <script> body, only local scripts.
    const page = await (await app.request('/docs')).text();
    expect(page).not.toMatch(/<script>[^<]/);
    expect([...page.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1])).toEqual([
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/init.js',
    ]);
  });
});

describe('request ids', () => {
  it('generates one, echoes a valid one, replaces an unsafe one, on success and problems alike', async () => {
    const { app } = offlineApp(production);
    const generated = (await app.request('/healthz')).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await app.request('/v1/orders/nope', { headers: { 'x-request-id': 'client-abc_123' } });
    expect(echoed.status).toBe(401);
    expect(echoed.headers.get('x-request-id')).toBe('client-abc_123');
    for (const unsafe of ['has space', 'x'.repeat(200), 'semi;colon', '../../etc']) {
      const res = await app.request('/healthz', { headers: { 'x-request-id': unsafe } });
      expect(res.headers.get('x-request-id')).not.toBe(unsafe);
    }
  });

  it('the log line of a failed request carries its request id', async () => {
    const { app, logs } = offlineApp(production);
    const res = await app.request('/v1/products', { headers: { ...bearer, 'x-request-id': 'trace-me-42' } });
    expect(res.status).toBe(500);
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(line).toMatchObject({ requestId: 'trace-me-42', path: '/v1/products' });
    expect(line.err.stack).toContain('secret_internal_table');
  });
});

describe('production answers reveal no internals', () => {
  it('a 500 has a generic detail: no message, stack or file path', async () => {
    const { app } = offlineApp(production);
    const res = await app.request('/v1/products', { headers: bearer });
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body).detail).toBe('An unexpected error occurred; it has been logged');
    for (const leak of ['secret_internal_table', '/srv/app', 'db.ts', '    at ', 'Error:']) {
      expect(body).not.toContain(leak);
    }
  });

  it('/readyz says which dependency failed but not why (internal addresses); development shows why', async () => {
    const prod = await bodyOf(offlineApp(production).app.request('/readyz'));
    expect(prod).toEqual({
      status: 'not ready',
      checks: { temporal: 'unavailable', database: 'unavailable' },
    });
    const dev = await bodyOf(offlineApp({ PAYLOAD_KEYS: keys }).app.request('/readyz'));
    expect(dev.checks.database).toContain('ECONNREFUSED 10.20.30.40:5432');
  });
});

describe('production refuses weak configuration', () => {
  it('API_CURSOR_SECRET must be set, not the built-in default, and long enough (the API only)', () => {
    const api = (env: Record<string, string>) => loadConfig({ ...production, ...env }, { role: 'api' }).api;
    const { API_CURSOR_SECRET: _set, ...unset } = production;
    expect(() => loadConfig(unset, { role: 'api' })).toThrow(/\n {2}API_CURSOR_SECRET: must be set/);
    expect(() => api({ API_CURSOR_SECRET: 'order-saga-cursor-v1' })).toThrow(
      /must be set to a secret of your own/,
    );
    expect(() => api({ API_CURSOR_SECRET: 'short' })).toThrow(
      /API_CURSOR_SECRET: use at least 16 characters/,
    );
    expect(api({ API_CURSOR_SECRET: 'x'.repeat(32) }).cursorSecret).toHaveLength(32);
    // Workers never sign cursors: they start without one, and development keeps the built-in key.
    expect(loadConfig(unset, { role: 'worker' }).api.cursorSecret).toBe('order-saga-cursor-v1');
    expect(loadConfig({}, { role: 'api' }).api.cursorSecret).toBe('order-saga-cursor-v1');
  });

  /** Runs an entry module with exactly `env` (plus PATH) and returns its exit code and stderr. */
  function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.once('exit', (code) => resolve({ code, stderr }));
    });
  }

  it.each([
    ['api/server.ts', { API_CURSOR_SECRET: 'a-cursor-secret-for-tests' }],
    ['workers/main.ts', { WORKER_HTTP_PORT: '0', TEMPORAL_METRICS_PORT: '0' }],
  ])('%s exits at start without PAYLOAD_KEYS, saying so', async (entry, extra) => {
    const { code, stderr } = await run(entry, {
      NODE_ENV: 'production',
      API_KEYS: `shop:${CLIENT_KEY}`,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      ...extra,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Invalid configuration:\n {2}PAYLOAD_KEYS: must be set when NODE_ENV=production/);
  });
});
