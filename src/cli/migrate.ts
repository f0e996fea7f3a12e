import { loadConfig } from '../config.js';
import { openCommandDatabase } from './database.js';
import { migrateDatabase } from '../db/migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
const config = loadConfig();
const database = openCommandDatabase(config, { poolSize: 1, holder: 'npm run migrate' });
try {
  await migrateDatabase(database, config.DATABASE_URL);
  process.stdout.write(`migrations applied to ${database.description}\n`);
} finally {
  await database.close();
}
