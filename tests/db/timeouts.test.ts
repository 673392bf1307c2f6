/**
 * The database timeouts against a real Postgres server, through a forwarding proxy that can hang the link: a query
 * on a connection whose packets stop fails within statement timeout + margin instead of hanging, the pool recovers
 * once the link heals, a session whose client went quiet mid-transaction loses its locks at the idle-in-transaction
 * timeout, a slow statement is cancelled by the server, and queries issued as a connection fails are failed, not lost.
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../api/problems/database-errors.js';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../../core/config/schema.js';
import { type DatabaseHandle, openDatabase, RESPONSE_MARGIN_MS } from '../../db/client.js';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy.js';
import {
  createThrowawayPostgres,
  TEST_POSTGRES_URL,
  type ThrowawayPostgres,
} from '../../harness/throwaway-database.js';

const TIMEOUTS = { connectSeconds: 2, statementMs: 1_000, idleInTransactionMs: 1_500, keepAliveSeconds: 10 };
/** The advisory lock a transaction holds while its client vanishes. */
const LOCK_KEY = 91_420_001;

async function failsWithin<T>(run: () => Promise<T>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    await run();
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(TEST_POSTGRES_URL === undefined)('database timeouts (postgres, through a proxy)', () => {
  let database: ThrowawayPostgres;
  let proxy: TcpProxy;
  let handle: DatabaseHandle;
  let direct: postgres.Sql;
  /** Late answers reported by the pools opened through the proxy: waited ms. */
  const late: number[] = [];
  /** A pool of `poolSize` on the test database, through the proxy, with the test's timeouts (or `timeouts`). */
  const openViaProxy = (poolSize: number, timeouts = TIMEOUTS) => {
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    return openDatabase({
      url: viaProxy.toString(),
      poolSize,
      timeouts,
      onLateAnswer: (waitedMs) => late.push(waitedMs),
    });
  };

  beforeAll(async () => {
    database = await createThrowawayPostgres(TEST_POSTGRES_URL as string, 'timeouts');
    const target = new URL(database.url);
    proxy = await startTcpProxy({
      listenHost: '127.0.0.1',
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
    handle = await openViaProxy(2);
    direct = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await handle?.close().catch(() => {});
    await direct?.end();
    await proxy?.close();
    await database?.drop();
  });

  it('gives the server its statement and idle-in-transaction timeouts', async () => {
    const rows = await handle.db.execute<{ statement: string; idle: string }>(
      sql`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`,
    );
    expect(Array.from(rows as unknown as Iterable<unknown>)).toEqual([{ statement: '1s', idle: '1500ms' }]);
  });

  it('has the server cancel a statement that runs past the statement timeout', async () => {
    const { error, ms } = await failsWithin(() => handle.db.execute(sql`select pg_sleep(3)`));
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).toMatch(
      /statement timeout/,
    );
    expect(ms).toBeLessThan(2_500);
  });

  it('fails a query on a hung connection within statement timeout + margin, and recovers after the link heals', async () => {
    await handle.ping();
    late.length = 0;
    proxy.partition();
    try {
      const { error, ms } = await failsWithin(() => handle.ping());
      expect(String(error.cause ?? error.message)).toMatch(/sent nothing/);
      // The code every classifier of lost connections knows: the API answers 503, activities retry.
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.statementMs + RESPONSE_MARGIN_MS - 100);
      expect(ms).toBeLessThan(TIMEOUTS.statementMs + RESPONSE_MARGIN_MS + 2_000);
    } finally {
      proxy.heal();
    }
    await handle.ping();
    // The deadline's own cut is an error, not a late answer.
    expect(late).toEqual([]);
  });

  it('without a statement timeout has no deadline, and reports a hung request once its answer comes', async () => {
    const unbounded = await openViaProxy(1, { ...TIMEOUTS, statementMs: 0 });
    const lateAfterMs = DEFAULT_STATEMENT_TIMEOUT_MS + RESPONSE_MARGIN_MS;
    try {
      await unbounded.ping();
      late.length = 0;
      proxy.partition();
      const started = Date.now();
      const ping = unbounded.ping();
      await new Promise((resolve) => setTimeout(resolve, lateAfterMs + 500));
      // Still waiting: nothing cut the hung connection.
      expect(late).toEqual([]);
      proxy.heal();
      await ping;
      expect(late).toHaveLength(1);
      expect(late[0]).toBeGreaterThan(lateAfterMs);
      expect(late[0]).toBeLessThanOrEqual(Date.now() - started);
      // A prompt answer is not late.
      await unbounded.ping();
      expect(late).toHaveLength(1);
    } finally {
      proxy.heal();
      await unbounded.close().catch(() => {});
    }
  });

  it('fails, never loses, queries issued the moment a connection failed (vendor/postgres/PATCHED.md)', async () => {
    const single = await openViaProxy(1);
    try {
      await single.ping();
      proxy.partition();
      // Retried as soon as the first fails, before the dropped socket's close event: they reach the dying connection.
      const retried = single
        .ping()
        .catch(() => Promise.allSettled(Array.from({ length: 3 }, () => single.ping())));
      const outcomes = (await Promise.race([
        retried,
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 10_000)),
      ])) as PromiseSettledResult<void>[] | string;
      expect(outcomes).not.toBe('still waiting');
      expect((outcomes as PromiseSettledResult<void>[]).map((o) => o.status)).toEqual(
        Array(3).fill('rejected'),
      );
    } finally {
      proxy.heal();
      await single.close().catch(() => {});
    }
  });

  it('releases the locks of a transaction whose client went quiet, at the idle-in-transaction timeout', async () => {
    let failed: Error | undefined;
    const transaction = handle.db
      .transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY})`);
        proxy.partition();
        // The next statement never reaches the server: the session sits idle in transaction, holding the lock.
        await tx.execute(sql`select 1`);
      })
      .catch((error: Error) => {
        failed = error;
      });
    const held = async () =>
      (
        await direct`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${LOCK_KEY}`
      )[0]?.n as number;
    const started = Date.now();
    try {
      expect(await held()).toBe(1);
      while ((await held()) > 0 && Date.now() - started < 10_000)
        await new Promise((r) => setTimeout(r, 100));
      const releasedAfter = Date.now() - started;
      expect(await held()).toBe(0);
      expect(releasedAfter).toBeLessThan(TIMEOUTS.idleInTransactionMs + 1_500);
    } finally {
      proxy.heal();
    }
    await transaction;
    expect(failed).toBeDefined();
    await handle.ping();
  });
});
