/** Real, migrated, throw-away databases for tests: in-memory PGlite, or a fresh Postgres database per call. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { type DatabaseDriver, type DatabaseHandle, openDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';

/** Admin URL of the Postgres server tests may create databases on; undefined skips the postgres variants. */
export const TEST_POSTGRES_URL: string | undefined =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/** Drivers to run database tests against, each with whether it can run here (for `describe.skipIf`). */
export const TEST_DRIVERS: ReadonlyArray<{ driver: DatabaseDriver; skip: boolean }> = [
  { driver: 'pglite', skip: false },
  { driver: 'postgres', skip: TEST_POSTGRES_URL === undefined },
];

/** Hook timeout for opening a test database: PGlite takes seconds to boot, more when files run in parallel. */
export const DATABASE_HOOK_TIMEOUT_MS = 60_000;

/** A test database; `url` (postgres only) lets a test open more connections to the same database. */
export interface TestDatabase extends DatabaseHandle {
  url?: string;
}

/** Options of {@link createTestDatabase}; `migrate: false` leaves the database empty for migration tests. */
export interface TestDatabaseOptions {
  migrate?: boolean;
}

/**
 * Opens a migrated database nobody else uses. On postgres it creates a uniquely named database on the admin
 * server (so test files can run in parallel) and `close()` drops it; on pglite it is a new in-memory instance.
 */
export async function createTestDatabase(
  driver: DatabaseDriver,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (driver === 'pglite') {
    const handle = await openDatabase({ pgliteDir: 'memory://' });
    if (migrate) await migrateDatabase(handle);
    return handle;
  }
  if (!TEST_POSTGRES_URL) throw new Error('set TEST_DATABASE_URL or DATABASE_URL to run postgres tests');
  const name = `saga_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), poolSize: 25 });
  try {
    if (migrate) await migrateDatabase(handle);
  } catch (error) {
    await handle.close();
    await dropDatabase(name);
    throw error;
  }
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      await dropDatabase(name);
    },
  };
}

async function dropDatabase(name: string): Promise<void> {
  const admin = postgres(TEST_POSTGRES_URL ?? '', { max: 1, onnotice: () => {} });
  try {
    // FORCE: a test that timed out may still hold a connection; it must not leak the database.
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}
