/** Renders constant string lists into SQL for check constraints. */
import { type SQL, sql } from 'drizzle-orm';

/** A comma-separated list of quoted literals, for `col in (...)` checks built from the contract constants. */
export function sqlList(values: readonly string[]): SQL {
  // Inlined rather than bound: drizzle-kit must print literals into the migration's check constraint.
  return sql.raw(values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', '));
}
