/** Opens the database: postgres.js when a URL is given, embedded PGlite otherwise; both behind one type. */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { DatabaseSslSettings } from '../core/config.js';
import * as schema from './schema/index.js';

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
}

/** Where to connect: `url` wins; otherwise PGlite in `pgliteDir`, in memory for 'memory://' or undefined. */
export interface OpenDatabaseOptions {
  url?: string;
  pgliteDir?: string;
  poolSize?: number;
  /** TLS to Postgres (DATABASE_SSL / DATABASE_SSL_CA); undefined keeps the URL's `sslmode`. */
  ssl?: DatabaseSslSettings | undefined;
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
    ? openPostgres(opts.url, opts.poolSize ?? 10, postgresSslOption(opts.ssl))
    : openPglite(opts.pgliteDir);
}

function openPostgres(url: string, poolSize: number, ssl: PostgresSsl | undefined): DatabaseHandle {
  // NOTICEs ("schema already exists, skipping") are expected during migrations and only add noise.
  const client = postgres(url, { max: poolSize, onnotice: () => {}, ...(ssl !== undefined ? { ssl } : {}) });
  const db: Database = drizzlePostgres(client, { schema });
  return {
    db,
    driver: 'postgres',
    close: () => client.end({ timeout: 5 }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
  };
}

async function openPglite(dir: string | undefined): Promise<DatabaseHandle> {
  const inMemory = dir === undefined || dir === PGLITE_MEMORY;
  if (!inMemory) await mkdir(dir, { recursive: true });
  const client = await PGlite.create(inMemory ? PGLITE_MEMORY : dir);
  const db: Database = drizzlePglite(client, { schema });
  return {
    db,
    driver: 'pglite',
    close: () => client.close(),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
  };
}
