/**
 * The dev servers we start are tuned (docs/BENCHMARKS.md): queue reads not capped at 20/s, and the persisted one
 * that `npm start` runs keeps its SQLite file in WAL mode; what it holds survives a restart on the same file.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type DevServer, devServerArgs, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dev-server-'));
const dbFile = path.join(dir, 'temporal.sqlite');
let server: DevServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** SQLite's file header: bytes 18 and 19 are the write and read format versions, 2 for WAL, 1 for rollback. */
function journalFormat(file: string): [number, number] {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return [header[18] ?? 0, header[19] ?? 0];
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

/** The values of every `flag VALUE` pair of an argument list. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && args[i + 1] ? [args[i + 1] as string] : []));
}

describe('dev server arguments', () => {
  it('lifts the queue-read caps, and sets the SQLite pragmas only for a database file', () => {
    const inMemory = devServerArgs({ cli: 'temporal', port: 7233 });
    expect(valuesOf(inMemory, '--dynamic-config-value')).toEqual(
      expect.arrayContaining([
        'history.transferProcessorMaxPollRPS=1000',
        'history.visibilityProcessorMaxPollRPS=1000',
      ]),
    );
    expect(valuesOf(inMemory, '--sqlite-pragma')).toEqual([]);
    const persisted = devServerArgs({ cli: 'temporal', port: 7233, dbFile: '/data/t.sqlite' });
    expect(valuesOf(persisted, '--sqlite-pragma')).toEqual(['journal_mode=wal', 'synchronous=normal']);
  });

  it('starts with stock settings when untuned, and explicit settings win', () => {
    const untuned = devServerArgs({ cli: 'temporal', port: 7233, dbFile: '/d.sqlite', untuned: true });
    expect(valuesOf(untuned, '--dynamic-config-value')).toEqual([]);
    expect(valuesOf(untuned, '--sqlite-pragma')).toEqual([]);
    const overridden = devServerArgs({
      cli: 'temporal',
      port: 7233,
      dynamicConfig: { 'history.transferProcessorMaxPollRPS': 50 },
    });
    expect(valuesOf(overridden, '--dynamic-config-value')).toContain(
      'history.transferProcessorMaxPollRPS=50',
    );
    expect(valuesOf(overridden, '--dynamic-config-value')).not.toContain(
      'history.transferProcessorMaxPollRPS=1000',
    );
  });
});

describe('persisted dev server', () => {
  it('keeps its SQLite file in WAL mode and its workflows across a restart', {
    timeout: 120_000,
  }, async () => {
    server = await startDevServer({ cli: inject('temporalCli'), port: await freePort(), dbFile });
    await withClient(server.address, (client) =>
      client.workflow.start('anyWorkflow', { taskQueue: 'nobody-polls', workflowId: 'kept-across-restart' }),
    );
    expect(journalFormat(dbFile)).toEqual([2, 2]);

    await server.stop();
    server = await startDevServer({ cli: inject('temporalCli'), port: await freePort(), dbFile });
    const description = await withClient(server.address, (client) =>
      client.workflow.getHandle('kept-across-restart').describe(),
    );
    expect(description.status.name).toBe('RUNNING');
    expect(journalFormat(dbFile)).toEqual([2, 2]);
  });
});
