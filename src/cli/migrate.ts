import { loadConfig } from '../config.js';
import { openConfiguredDatabase } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { databaseFailure, runCli } from './run.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
await runCli('npm run migrate', async () => {
  const config = loadConfig();
  const database = openConfiguredDatabase(config, { poolSize: 1, holder: 'npm run migrate' });
  try {
    await migrateDatabase(database);
    process.stdout.write(`migrations applied to ${database.description}\n`);
    return 0;
  } catch (error) {
    throw databaseFailure(error, database.description);
  } finally {
    await database.close();
  }
});
