/** Real, throw-away databases for tests, the chaos run and benchmarks: in-memory PGlite, or a fresh Postgres database. */
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

/** A Postgres database created for one run: its name, a URL to it, and `drop()` to remove it (forced). */
export interface ThrowawayPostgres {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named, empty database on the server of `adminUrl` (`<prefix>_<pid>_<random>`), for tests,
 * the chaos run and benchmarks that need a database nobody else uses.
 */
export async function createThrowawayPostgres(adminUrl: string, prefix: string): Promise<ThrowawayPostgres> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.unsafe(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // FORCE: a run that timed out may still hold a connection; it must not leak the database.
    drop: () =>
      withAdmin(adminUrl, (admin) => admin.unsafe(`drop database if exists "${name}" with (force)`)),
  };
}

async function withAdmin(adminUrl: string, run: (admin: postgres.Sql) => Promise<unknown>): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await run(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Opens a migrated database nobody else uses. On postgres it creates a throw-away database on the admin server
 * (so test files can run in parallel) and `close()` drops it; on pglite it is a new in-memory instance.
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
  const database = await createThrowawayPostgres(TEST_POSTGRES_URL, 'saga_test');
  const handle = await openDatabase({ url: database.url, poolSize: 25 });
  try {
    if (migrate) await migrateDatabase(handle);
  } catch (error) {
    await handle.close();
    await database.drop();
    throw error;
  }
  return {
    ...handle,
    url: database.url,
    close: async () => {
      await handle.close();
      await database.drop();
    },
  };
}
