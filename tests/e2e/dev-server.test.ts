/**
 * The persisted dev server that `npm start` runs: its SQLite file is in WAL mode (the tuning measured in
 * docs/BENCHMARKS.md), and what it holds survives a restart on the same file.
 */
import { mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type DevServer, startDevServer } from '../../scripts/dev-server.js';
import { freePort } from '../../scripts/free-port.js';

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
  readSync(fd, header, 0, 20, 0);
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

describe('persisted dev server', () => {
  it('keeps its SQLite file in WAL mode and its workflows across a restart', async () => {
    const port = await freePort();
    server = await startDevServer({ cli: inject('temporalCli'), port, dbFile });
    await withClient(server.address, (client) =>
      client.workflow.start('anyWorkflow', { taskQueue: 'nobody-polls', workflowId: 'kept-across-restart' }),
    );
    expect(journalFormat(dbFile)).toEqual([2, 2]);

    await server.stop();
    server = await startDevServer({ cli: inject('temporalCli'), port, dbFile });
    const description = await withClient(server.address, (client) =>
      client.workflow.getHandle('kept-across-restart').describe(),
    );
    expect(description.status.name).toBe('RUNNING');
    expect(journalFormat(dbFile)).toEqual([2, 2]);
  });
});
