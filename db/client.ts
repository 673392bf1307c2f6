/** Opens the database: postgres.js when a URL is given, embedded PGlite otherwise; both behind one type. */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../core/config/schema.js';
import type { DatabaseSslSettings, DatabaseTimeouts } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { watchedSocketFactory } from './response-watchdog.js';
import * as schema from './schema/index.js';
import { statementCounter, traceTransactions } from './tracing.js';

/** All tables of all services, as given to drizzle. */
export type Schema = typeof schema;

/** The drizzle database every module takes, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** The handle given to `db.transaction` callbacks, for helpers that must run inside one. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Which driver a handle uses. */
export type DatabaseDriver = 'postgres' | 'pglite';

/** An open database plus what a process needs to check and close it. */
export interface DatabaseHandle {
  db: Database;
  driver: DatabaseDriver;
  /** Ends every connection (postgres) or shuts the embedded engine down (PGlite). */
  close(): Promise<void>;
  /** Throws when the database cannot answer a trivial query; used by readiness checks. */
  ping(): Promise<void>;
  /**
   * LISTENs on `channel` (a lower-case identifier) and calls `onNotify` with each NOTIFY's payload, delivered after
   * the notifying transaction commits; resolves once listening, with the function that stops it. On postgres the
   * listener has its own connection and re-listens after a reconnect, calling `onNotify('')` then, since
   * notifications sent while it was away are lost.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Channel names `listen` accepts: unquoted identifiers that Postgres would not fold or need to escape. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid LISTEN channel ${JSON.stringify(channel)}`);
}

/** Where to connect: `url` wins; otherwise PGlite in `pgliteDir`, in memory for 'memory://' or undefined. */
export interface OpenDatabaseOptions {
  url?: string;
  pgliteDir?: string;
  poolSize?: number;
  /** TLS to Postgres (DATABASE_SSL / DATABASE_SSL_CA); undefined keeps the URL's `sslmode`. */
  ssl?: DatabaseSslSettings | undefined;
  /** Connect, statement and idle-in-transaction timeouts and keepalives; undefined keeps postgres.js's defaults. */
  timeouts?: DatabaseTimeouts | undefined;
  /**
   * Called with how long a Postgres request waited for its answer when that was longer than the answer deadline
   * (statement timeout + margin; the default's when there is none), with `timeouts` set. Processes log it.
   */
  onLateAnswer?: ((waitedMs: number, lateAfterMs: number) => void) | undefined;
}

/** How long past `statement_timeout` a query may wait for the server's first answer before its socket is dropped. */
export const RESPONSE_MARGIN_MS = 2_000;

/** The line a process logs for each late answer; the chaos run counts them. */
export const LATE_ANSWER_MESSAGE = 'a Postgres answer came later than its deadline allows';

/** `onLateAnswer` for a process: a warning with how long the request waited. */
export function logLateAnswers(logger: Logger): NonNullable<OpenDatabaseOptions['onLateAnswer']> {
  return (waitedMs, lateAfterMs) => logger.warn({ waitedMs, lateAfterMs }, LATE_ANSWER_MESSAGE);
}

/** What postgres.js gets as `ssl`: off, encrypted without verification, or verified against a CA and host name. */
export type PostgresSsl = false | 'require' | ConnectionOptions;

/** Turns the TLS settings into postgres.js's `ssl` option; reads the CA file now so a bad path fails at start. */
export function postgresSslOption(settings: DatabaseSslSettings | undefined): PostgresSsl | undefined {
  if (!settings) return undefined;
  if (settings.mode === 'disable') return false;
  if (settings.mode === 'require') return 'require';
  let ca: Buffer | undefined;
  if (settings.caFile) {
    try {
      ca = readFileSync(settings.caFile);
    } catch (err) {
      throw new Error(
        `DATABASE_SSL_CA: cannot read ${settings.caFile}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  // Node checks the host name against the certificate (postgres.js passes the host as servername).
  return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
}

/** PGlite data directory that keeps everything in memory. */
export const PGLITE_MEMORY = 'memory://';

/** Opens the database described by `opts`; the caller owns the handle and must close it. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return opts.url
    ? openPostgres(
        opts.url,
        opts.poolSize ?? 10,
        postgresSslOption(opts.ssl),
        opts.timeouts,
        opts.onLateAnswer,
      )
    : openPglite(opts.pgliteDir);
}

/**
 * postgres.js options for `timeouts`: the server enforces the statement and idle-in-transaction timeouts (so a client
 * that vanished mid-transaction loses its locks), the client the connect timeout, keepalives on idle connections and a
 * deadline on answers (db/response-watchdog.ts) for connections that hang instead of failing. Answers are measured
 * whether or not there is a deadline: one later than the deadline (the default's without a statement timeout) goes to
 * `onLateAnswer`.
 */
export function postgresTimeoutOptions(
  timeouts: DatabaseTimeouts | undefined,
  onLateAnswer?: OpenDatabaseOptions['onLateAnswer'],
): postgres.Options<Record<string, never>> & { socket?: ReturnType<typeof watchedSocketFactory> } {
  if (!timeouts) return {};
  const deadlineMs = timeouts.statementMs > 0 ? timeouts.statementMs + RESPONSE_MARGIN_MS : undefined;
  const lateAfterMs = deadlineMs ?? DEFAULT_STATEMENT_TIMEOUT_MS + RESPONSE_MARGIN_MS;
  return {
    connect_timeout: timeouts.connectSeconds,
    keep_alive: timeouts.keepAliveSeconds,
    connection: {
      statement_timeout: timeouts.statementMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    },
    // A documented option (README, "All Postgres options") that the package's types leave out.
    socket: watchedSocketFactory({ deadlineMs, lateAfterMs, onLateAnswer }),
  };
}

function openPostgres(
  url: string,
  poolSize: number,
  ssl: PostgresSsl | undefined,
  timeouts: DatabaseTimeouts | undefined,
  onLateAnswer: OpenDatabaseOptions['onLateAnswer'],
): DatabaseHandle {
  // NOTICEs ("schema already exists, skipping") are expected during migrations and only add noise.
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    ...(ssl !== undefined ? { ssl } : {}),
    ...postgresTimeoutOptions(timeouts, onLateAnswer),
  });
  const db: Database = drizzlePostgres(client, { schema, logger: statementCounter });
  traceTransactions(db, decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres');
  return {
    db,
    driver: 'postgres',
    close: () => client.end({ timeout: 5 }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: async (channel, onNotify) => {
      checkChannel(channel);
      let listened = false;
      const { unlisten } = await client.listen(channel, onNotify, () => {
        // Called again after every reconnect: whatever was notified in between is gone, so wake the listener.
        if (listened) onNotify('');
        listened = true;
      });
      return unlisten;
    },
  };
}

async function openPglite(dir: string | undefined): Promise<DatabaseHandle> {
  const inMemory = dir === undefined || dir === PGLITE_MEMORY;
  if (inMemory) return pgliteHandle(await PGlite.create(PGLITE_MEMORY), async () => {});
  await mkdir(dir, { recursive: true });
  const release = lockPgliteDirectory(dir);
  let client: PGlite;
  try {
    client = await PGlite.create(dir);
  } catch (err) {
    release();
    throw err;
  }
  return pgliteHandle(client, release);
}

function pgliteHandle(client: PGlite, release: () => void): DatabaseHandle {
  const db: Database = drizzlePglite(client, { schema, logger: statementCounter });
  traceTransactions(db, 'pglite');
  return {
    db,
    driver: 'pglite',
    close: async () => {
      try {
        await client.close();
      } finally {
        release();
      }
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: async (channel, onNotify) => {
      checkChannel(channel);
      const unlisten = await client.listen(channel, onNotify);
      return () => unlisten();
    },
  };
}

/** Name of the lock file inside a PGlite directory: who has it open (JSON: pid, token, command, since). */
export const PGLITE_LOCK_FILE = 'order-saga.lock';

interface PgliteLock {
  pid: number;
  token: string;
  command?: string;
  since?: string;
}

/** Locks this process holds, by token: a lock file with our pid but a token not here is a previous life's. */
const heldLocks = new Set<string>();

/** A lock file older than this that still says nothing readable is a crash between create and write. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/**
 * Takes the PGlite directory for this process, or throws naming the process that has it: PGlite is one process's
 * database, and a second engine on the same files silently loses writes. The lock file is created atomically
 * (`wx`); one whose process is gone is taken over. Returns the release function (idempotent).
 */
export function lockPgliteDirectory(dir: string): () => void {
  const file = path.join(dir, PGLITE_LOCK_FILE);
  const lock: PgliteLock = {
    pid: process.pid,
    token: randomBytes(12).toString('hex'),
    command: process.argv
      .slice(1)
      .map((arg) => path.basename(arg))
      .join(' ')
      .slice(0, 200),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreateLock(file, lock)) {
      heldLocks.add(lock.token);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldLocks.delete(lock.token);
        // Only our own lock: a process that (wrongly) took it over since keeps its own.
        const current = readLock(file);
        if (typeof current === 'object' && current.token === lock.token) unlinkQuietly(file);
      };
    }
    const holder = readLock(file);
    if (holder === 'missing') continue; // released meanwhile: try again
    if (holder === undefined ? !unreadableForLong(file) : isAlive(holder)) throw inUse(dir, file, holder);
    takeOverStale(file, holder);
  }
  throw new Error(
    `PGlite directory ${shown(dir)}: could not take ${PGLITE_LOCK_FILE}, it keeps changing hands`,
  );
}

function tryCreateLock(file: string, lock: PgliteLock): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(lock)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The lock in `file`: parsed, 'missing', or undefined when it says nothing readable (being written, or garbage). */
function readLock(file: string): PgliteLock | 'missing' | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PgliteLock> | null;
    if (
      parsed &&
      Number.isSafeInteger(parsed.pid) &&
      (parsed.pid as number) > 0 &&
      typeof parsed.token === 'string'
    ) {
      return parsed as PgliteLock;
    }
  } catch {
    // unreadable: decided by age
  }
  return undefined;
}

function unreadableForLong(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
  } catch {
    return true;
  }
}

/** Whether the process that wrote `lock` still runs. Our own pid counts only for a lock we hold (containers reuse pids). */
function isAlive(lock: PgliteLock): boolean {
  if (lock.pid === process.pid) return heldLocks.has(lock.token);
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes a stale lock without removing a fresh one another opener may have created meanwhile: moves it aside
 * (atomic), checks it is still the stale one, and puts it back if it was not.
 */
function takeOverStale(file: string, stale: PgliteLock | undefined): void {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  const same =
    moved === 'missing' ||
    (stale === undefined ? moved === undefined : moved !== undefined && moved.token === stale.token);
  if (!same) {
    try {
      linkSync(aside, file); // back where it was, unless yet another lock is there now
    } catch {
      // EEXIST: someone holds a newer lock; ours is lost either way
    }
  }
  unlinkQuietly(aside);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function inUse(dir: string, file: string, holder: PgliteLock | undefined): Error {
  const who = holder
    ? `process ${holder.pid}${holder.pid === process.pid ? ' (this process, through another handle)' : ''} (${[holder.command, holder.since && `since ${holder.since}`].filter(Boolean).join(', ')})`
    : 'another process (its lock file is being written)';
  return new Error(
    `PGlite directory ${shown(dir)} is in use by ${who}; stop it, or set DATABASE_URL to share a Postgres server. ` +
      `If no such process runs, delete ${shown(file)}.`,
  );
}

/** A path as the operator typed it: relative to the working directory when inside it. */
function shown(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : p;
}
