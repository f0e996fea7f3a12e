import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
const config = loadConfig();
const database = openDatabase({
  url: config.DATABASE_URL,
  poolSize: 1,
  pgliteDir: config.PGLITE_DIR,
  pgliteInMemory: config.PGLITE_IN_MEMORY,
});
try {
  await migrateDatabase(database, config.DATABASE_URL);
  process.stdout.write(`migrations applied to ${database.description}\n`);
} finally {
  await database.close();
}
