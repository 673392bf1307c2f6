/**
 * PGlite is one process's database: a second process opening the same directory is refused with a clear error
 * (instead of two engines on the same files silently losing writes); a stale lock is taken over; close() frees it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, lockPgliteDirectory, openDatabase, PGLITE_LOCK_FILE } from '../../db/client.js';
import { DATABASE_HOOK_TIMEOUT_MS } from '../../harness/throwaway-database.js';

const CLIENT = fileURLToPath(new URL('../../db/client.ts', import.meta.url));

/** Runs a second Node process that opens `dir` with PGlite, runs `count(*)` on `t`, prints it and closes. */
function openInAnotherProcess(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    import { sql } from 'drizzle-orm';
    const { openDatabase } = await import(${JSON.stringify(CLIENT)});
    const handle = await openDatabase({ pgliteDir: ${JSON.stringify(dir)} });
    const rows = await handle.db.execute(sql\`select count(*)::int as n from t\`);
    console.log('rows=' + rows.rows[0].n);
    await handle.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.dirname(CLIENT),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A pid that no process has now: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const pid = Number(child.stdout.trim());
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return pid;
}

const lockOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, PGLITE_LOCK_FILE), 'utf8'));

describe('PGlite directory lock', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'saga-pglite-lock-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(
    'takes over a stale lock, refuses a second process with a clear error, and lets the next one in after close()',
    async () => {
      const dir = path.join(root, 'pglite');
      // A lock left by a process that crashed: taken over on open (and PGlite initialises the directory anyway).
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const crashed = deadPid();
      writeFileSync(
        path.join(dir, PGLITE_LOCK_FILE),
        JSON.stringify({ pid: crashed, token: 'old', command: 'x' }),
      );
      let first: DatabaseHandle | undefined = await openDatabase({ pgliteDir: dir });
      try {
        expect(lockOf(dir)).toMatchObject({ pid: process.pid });
        await first.db.execute(sql`create table t (x int)`);
        await first.db.execute(sql`insert into t values (1), (2)`);

        // Another process: refused before it boots an engine, naming this process and the way out.
        const second = await openInAnotherProcess(dir);
        expect(second.code).not.toBe(0);
        expect(second.stderr).toContain(`PGlite directory ${dir} is in use by process ${process.pid}`);
        expect(second.stderr).toContain('stop it, or set DATABASE_URL to share a Postgres server');
        expect(second.stdout).not.toContain('rows=');

        // This process again, through a second handle: the same refusal.
        await expect(openDatabase({ pgliteDir: dir })).rejects.toThrow(
          /is in use by process \d+ \(this process/,
        );
        expect(lockOf(dir)).toMatchObject({ pid: process.pid });

        await first.close();
        first = undefined;
        expect(existsSync(path.join(dir, PGLITE_LOCK_FILE))).toBe(false);

        // Freed: another process opens it and sees every write of the first.
        const third = await openInAnotherProcess(dir);
        expect(third.stderr).not.toContain('in use');
        expect(third.code).toBe(0);
        expect(third.stdout).toContain('rows=2');
        expect(existsSync(path.join(dir, PGLITE_LOCK_FILE))).toBe(false);
      } finally {
        await first?.close();
      }
    },
    DATABASE_HOOK_TIMEOUT_MS * 2,
  );

  it('lock file rules, without an engine: live holder refused, stale and own-pid leftovers taken over', async () => {
    const dir = await mkdtemp(path.join(root, 'rules-'));
    const file = path.join(dir, PGLITE_LOCK_FILE);

    // A live process that is not this one (the parent of this test worker).
    writeFileSync(file, JSON.stringify({ pid: process.ppid, token: 't', command: 'npm run api' }));
    expect(() => lockPgliteDirectory(dir)).toThrow(`is in use by process ${process.ppid} (npm run api)`);
    expect(lockOf(dir).pid).toBe(process.ppid);

    // A dead one: taken over.
    writeFileSync(file, JSON.stringify({ pid: deadPid(), token: 't' }));
    let release = lockPgliteDirectory(dir);
    expect(lockOf(dir).pid).toBe(process.pid);
    expect(() => lockPgliteDirectory(dir)).toThrow(/in use by process \d+ \(this process/);
    release();
    release(); // idempotent
    expect(existsSync(file)).toBe(false);

    // Our own pid but not a lock we hold: a previous run under the same pid (pid 1 in a container).
    writeFileSync(file, JSON.stringify({ pid: process.pid, token: 'previous-life' }));
    release = lockPgliteDirectory(dir);
    expect(lockOf(dir).token).not.toBe('previous-life');
    release();

    // An unreadable lock: being written right now if fresh (refused), a crash mid-write if old (taken over).
    writeFileSync(file, '');
    expect(() => lockPgliteDirectory(dir)).toThrow(/in use by another process/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    release = lockPgliteDirectory(dir);
    expect(lockOf(dir).pid).toBe(process.pid);

    // Release leaves a lock that is no longer ours alone.
    writeFileSync(file, JSON.stringify({ pid: process.ppid, token: 'someone-else' }));
    release();
    expect(lockOf(dir).token).toBe('someone-else');
  });
});
