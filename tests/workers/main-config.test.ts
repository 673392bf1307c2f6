/** workers/main.ts takes its services from the configuration (WORKER_SERVICES), the `--service` flag overriding it. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../core/config.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';

/** What the process told before it was stopped: the `service` of its first log line, or its exit and stderr. */
interface Outcome {
  service?: string;
  code?: number | null;
  stderr: string;
}

/**
 * Starts `workers/main.ts` with exactly `env` and stops it at its first log line: a worker process without
 * DATABASE_URL warns before it opens anything, under the logger name `worker:<services>`.
 */
function startWorker(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        PAYLOAD_KEYS: formatPayloadKeys([generatePayloadKey('k1')]),
        PGLITE_DIR: mkdtempSync(path.join(os.tmpdir(), 'worker-main-')),
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        WORKER_HTTP_PORT: '0',
        TEMPORAL_METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line && !settled) {
        settled = true;
        child.kill('SIGKILL');
        resolve({ service: (JSON.parse(line) as { service?: string }).service, stderr });
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('exit', (code) => {
      if (!settled) resolve({ code, stderr });
    });
  });
}

describe('workers/main.ts configuration', () => {
  it('runs the services of WORKER_SERVICES', async () => {
    expect((await startWorker([], { WORKER_SERVICES: 'payments' })).service).toBe('worker:payments');
    expect((await startWorker([], { WORKER_SERVICES: 'orders,shipping' })).service).toBe(
      'worker:orders+shipping',
    );
  });

  it('--service overrides WORKER_SERVICES (how containers run it)', async () => {
    expect((await startWorker(['--service', 'inventory'], { WORKER_SERVICES: 'payments' })).service).toBe(
      'worker:inventory',
    );
  });

  it('refuses an unknown service in the one configuration error format', async () => {
    const outcome = await startWorker([], { WORKER_SERVICES: 'billing' });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/Invalid configuration:\n {2}WORKER_SERVICES: unknown service "billing"/);
  });
});
