import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Database } from './client.js';
import { query } from './sql.js';

/** SQL files written by drizzle-kit; `npm run build` copies them beside the compiled code. */
const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Key of the session advisory lock that lets one instance migrate while the others wait. */
const MIGRATION_LOCK = 7_284_113_001;

/**
 * Applies pending migrations. On a real server, instances starting together take turns on an
 * advisory lock held by a dedicated connection (a session: DATABASE_SESSION_URL when set), so
 * each migration runs exactly once.
 */
export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(drizzlePglite(database.pglite), { migrationsFolder });
    return;
  }
  const client = new pg.Client({
    connectionString: database.sessionUrl,
    application_name: 'overture-migrate',
  });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}

let migrationCount: number | undefined;

/** Number of migrations in the folder that the database has not recorded (0 = up to date). */
export async function pendingMigrationCount(database: Database): Promise<number> {
  migrationCount ??= readMigrationFiles({ migrationsFolder }).length;
  const [table] = await query<{ present: boolean }>(
    database,
    sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`,
  );
  if (!table?.present) return migrationCount;
  const [row] = await query<{ applied: number }>(
    database,
    sql`SELECT count(*)::int AS applied FROM drizzle.__drizzle_migrations`,
  );
  return migrationCount - (row?.applied ?? 0);
}
