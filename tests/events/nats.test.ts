/**
 * The process's NATS connection (events/nats.ts) against a real server that is not there yet, then goes away and
 * comes back: `connection()` waits instead of failing, the client reconnects on its own with the same connection,
 * and closing stops the retries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { createNatsClient, type NatsClient } from '../../events/nats.js';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nats-client-'));
const logged: Array<{ level: number; msg: string }> = [];
const logger = createLogger('test', 'debug', {
  write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }),
});
let server: NatsServer | undefined;
let client: NatsClient | undefined;

afterAll(async () => {
  await client?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const startServer = (port: number) =>
  startNatsServer({ binary: inject('natsServerBinary'), port, storeDir: path.join(dir, 'store') });

const pendingAfter = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

async function until(test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('waits for a server that is down, then reconnects on its own after a restart', async () => {
  const port = await freePort();
  client = createNatsClient({
    servers: [`nats://127.0.0.1:${port}`],
    name: 'nats-client-test',
    logger,
    retryDelayMs: 50,
    maxRetryDelayMs: 200,
  });
  const connection = client.connection();
  expect(await pendingAfter(connection, 1_000)).toBe('pending');
  expect(client.connected).toBe(false);
  expect(client.current).toBeUndefined();
  const unreachable = logged.filter((line) => line.msg === 'NATS unreachable; retrying until it answers');
  expect(unreachable).toHaveLength(1); // said once; the retries after it log at debug
  expect(logged.filter((line) => line.msg === 'NATS still unreachable').length).toBeGreaterThan(1);

  server = await startServer(port);
  const nc = await connection;
  expect(client.connected).toBe(true);
  await nc.flush();

  await server.stop();
  await until(() => client?.connected === false, 10_000);
  server = await startServer(port);
  await until(() => client?.connected === true, 15_000);
  expect(client.current).toBe(nc);
  await nc.flush();
  expect(logged.map((line) => line.msg)).toEqual(
    expect.arrayContaining(['connected to NATS', 'NATS connection lost; reconnecting', 'NATS reconnected']),
  );

  await client.close();
  expect(nc.isClosed()).toBe(true);
  await expect(client.connection()).rejects.toThrow(/closed/);
}, 60_000);

it('closing a client that never connected stops its retries and fails the waiting callers', async () => {
  const idle = createNatsClient({
    servers: [`nats://127.0.0.1:${await freePort()}`],
    name: 'never-connected',
    logger,
    retryDelayMs: 50,
  });
  const waiting = idle.connection();
  await idle.close();
  await expect(waiting).rejects.toThrow(/closed/);
  const attempts = logged.filter((line) => line.msg === 'NATS still unreachable').length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(logged.filter((line) => line.msg === 'NATS still unreachable').length).toBe(attempts);
});
