/** Applies the SQL migrations in db/migrations, once, even when several processes start together. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { DatabaseHandle } from './client.js';

/** Folder of the drizzle-kit migrations, found next to this file so the working directory does not matter. */
export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Advisory lock key shared by every process that migrates this database (any constant bigint works). */
export const MIGRATION_LOCK_KEY = 7_402_913_001;

/** Result of a migration run: how many migration files were applied now (0 when already up to date). */
export interface MigrationReport {
  applied: number;
}

/**
 * Applies pending migrations in one transaction. On postgres that transaction first takes an advisory lock,
 * so concurrent starters wait for each other instead of racing to create the same schemas.
 * The bookkeeping table is drizzle's own (`drizzle.__drizzle_migrations`), so drizzle-kit agrees with it.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<MigrationReport> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  // Lock and migration share one transaction (one connection): drizzle's migrator would need a second
  // connection to hold a session lock, which deadlocks with a pool of one.
  return handle.db.transaction(async (tx) => {
    if (handle.driver === 'postgres') {
      // Waiting for another starter's migration, or building an index on a large table, may take longer than the
      // session's statement timeout; this transaction alone has none.
      await tx.execute(sql`set local statement_timeout = 0`);
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    }
    await tx.execute(sql`create schema if not exists drizzle`);
    await tx.execute(
      sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
    );
    const rows = await tx.execute<{ created_at: string | number }>(
      sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
    );
    const last = lastAppliedMillis(rows);
    let applied = 0;
    for (const migration of migrations) {
      if (last !== null && migration.folderMillis <= last) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      applied += 1;
    }
    return { applied };
  });
}

// postgres.js returns an array of rows, PGlite an object with `rows`.
function lastAppliedMillis(result: unknown): number | null {
  const rows = Array.isArray(result) ? result : (result as { rows?: unknown[] }).rows;
  const first = rows?.[0] as { created_at?: string | number } | undefined;
  return first?.created_at === undefined ? null : Number(first.created_at);
}
