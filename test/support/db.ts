import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { withDatabase } from './global-setup.js';

const adminUrl = inject('postgresAdminUrl');
const template = inject('templateDatabase');

/** Whether the machine's PostgreSQL is there (global setup fails the run instead when it is required). */
export const postgresAvailable = adminUrl !== '';

/** `describe` for suites that need PostgreSQL: skipped loudly (see global setup) without it. */
export const describeWithPostgres = describe.skipIf(!postgresAvailable);

export interface TestDatabase {
  url: string;
  /** A small pool for assertions and time travel. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database of this test file's own, cloned from the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `overture_t_${process.ppid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // Dropping the database (WITH FORCE) terminates connections still idle in the pool.
  pool.on('error', () => undefined);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/**
 * Transactions a test database has run, every session included. Sessions publish their counts
 * only when they end or after about 10 s idle, so every other session of the database (a
 * server's pool, the test's pool) is ended first; pools reconnect on their next query.
 */
export async function transactionCount(url: string): Promise<number> {
  const reader = new pg.Client({ connectionString: url });
  await reader.connect();
  try {
    await reader.query(
      `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    const { rows } = await reader.query<{ n: string }>(
      `SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`,
    );
    return Number(rows[0]?.n);
  } finally {
    await reader.end();
  }
}
