import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toAppError } from '../../src/http/error-mapping.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { isDatabaseUnavailable, query, transaction } from '../../src/db/sql.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';

/**
 * A connection lost while the pool has it checked out, on the real driver: the backend is
 * terminated from another session (only this file's own test database is touched). Proves that
 * the process gets no unhandled 'error' (the worker running this file would die), that the work
 * in flight fails with an error mapped to 503 SERVICE_UNAVAILABLE (drizzle's ROLLBACK on the dead
 * client included), and that the broken client leaves the pool even when its holder never
 * releases it, so the next statements run on a fresh connection.
 */
describeWithPostgres('a database connection lost while checked out', () => {
  let testDb: TestDatabase;
  let database: Database;
  let pool: pg.Pool;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = openDatabase({ url: testDb.url, poolSize: 2, pgliteDir: '', pgliteInMemory: true });
    if (database.kind !== 'postgres') throw new Error('expected PostgreSQL');
    pool = database.pool;
  });
  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  const terminateServerConnections = async (): Promise<number> => {
    const { rows } = await testDb.pool.query<{ n: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'overture'`,
    );
    return rows[0]?.n ?? 0;
  };

  it('fails the transaction in flight as unavailable, and the next one runs', async () => {
    let terminated = 0;
    let dropped = false;
    const outcome = transaction(database, async (tx) => {
      await query(tx, sql`SELECT 1`);
      // Between two statements (as a payment waiting on Redis would be): the backend goes away.
      // Judged outside: a failed expectation in here would only become the transaction's error.
      terminated = await terminateServerConnections();
      dropped = await expect
        .poll(() => pool.totalCount, { timeout: 5_000, interval: 10 })
        .toBe(0)
        .then(
          () => true,
          () => false,
        );
      await query(tx, sql`SELECT 2`);
    });
    const error = await outcome.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect([terminated, dropped]).toEqual([1, true]);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(toAppError(error).code).toBe('SERVICE_UNAVAILABLE');
    expect(await transaction(database, (tx) => query(tx, sql`SELECT 3 AS n`))).toEqual([{ n: 3 }]);
  });

  it('drops a broken client whose holder never releases it', async () => {
    const client = await pool.connect();
    expect(await terminateServerConnections()).toBe(1);
    await expect.poll(() => pool.totalCount, { timeout: 5_000, interval: 10 }).toBe(0);
    const error = await client.query('SELECT 1').then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
    // Both pool slots are free again: two statements hold a connection each at once.
    const both = await Promise.all([
      transaction(database, (tx) => query(tx, sql`SELECT pg_sleep(0.05), 1 AS n`)),
      transaction(database, (tx) => query(tx, sql`SELECT pg_sleep(0.05), 2 AS n`)),
    ]);
    expect(both.map((rows) => (rows[0] as { n: number }).n)).toEqual([1, 2]);
    client.release();
  });
});
