/** `npm run db:migrate`: applies pending migrations to the configured database, then exits. */
import { loadConfig } from '../core/config.js';
import { openDatabase } from './client.js';
import { migrateDatabase } from './migrate.js';

const config = loadConfig();
const handle = await openDatabase(config.database);
try {
  const { applied } = await migrateDatabase(handle);
  console.log(`database migrated (${handle.driver}): ${applied} migration(s) applied`);
} catch (error) {
  console.error('migration failed:', error);
  process.exitCode = 1;
} finally {
  await handle.close();
}
