import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import {
  ADMISSION_LOCK,
  createPostgresQueueStore,
} from '../../src/modules/queue/queue.store.postgres.js';
import { newQueueToken } from '../../src/shared/ids.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';

/**
 * Proves: a join whose transaction has taken its sequence number but not committed yet is never
 * skipped. Admission waits for it (the shared/exclusive admission lock) instead of admitting the
 * later arrival that committed first. Without the lock this test admits user 2 before user 1.
 */
describeWithPostgres('admission never skips a join still in flight', () => {
  let db: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    db = await createTestDatabase();
    database = openDatabase({
      url: db.url,
      poolSize: 4,
      pgliteDir: '',
      pgliteInMemory: false,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('waits for the earlier arrival to commit, then admits both in arrival order', async () => {
    const store = createPostgresQueueStore(database, {
      maxActive: 1,
      activeTtlSeconds: 60,
      idleSeconds: 60,
    });
    // User 1 is mid-join: the same statement the store runs, inside a transaction left open.
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    await slow.query('BEGIN');
    await slow.query(
      `WITH admission AS (SELECT pg_advisory_xact_lock_shared($2))
       INSERT INTO queue_tokens (token, user_id, status) SELECT $1, 1, 'WAITING' FROM admission`,
      [newQueueToken(), ADMISSION_LOCK],
    );
    // User 2 arrives later and commits first.
    await store.enter(2);

    let admitted = false;
    const admission = store.admit().then((result) => {
      admitted = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(admitted).toBe(false);

    await slow.query('COMMIT');
    await slow.end();
    expect((await admission).admitted).toBe(1);
    const { rows } = await db.pool.query<{ user_id: string; status: string }>(
      `SELECT user_id, status FROM queue_tokens ORDER BY id`,
    );
    expect(rows).toEqual([
      { user_id: '1', status: 'ACTIVE' },
      { user_id: '2', status: 'WAITING' },
    ]);
  });
});
