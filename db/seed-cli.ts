/** `npm run db:seed`: migrates (so it works on a fresh database) and inserts the demo catalog, then exits. */
import { loadConfig } from '../core/config.js';
import { openDatabase } from './client.js';
import { migrateDatabase } from './migrate.js';
import { SEED_PRODUCTS, seedCatalog } from './seed.js';

const config = loadConfig();
const handle = await openDatabase(config.database);
try {
  await migrateDatabase(handle);
  const inserted = await seedCatalog(handle.db);
  console.log(
    `catalog seeded (${handle.driver}): ${inserted} of ${SEED_PRODUCTS.length} product(s) inserted`,
  );
} catch (error) {
  console.error('seeding failed:', error);
  process.exitCode = 1;
} finally {
  await handle.close();
}
