import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import { newQueueToken } from '../../src/shared/ids.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * Proves: a join that has taken its arrival number but not committed yet is never skipped.
 * Arrival numbers come from one counter row in the joining statement, so a later join cannot
 * even get its number until the earlier one commits — admission meanwhile sees nobody, and then
 * admits in arrival order. (A sequence instead of the counter would let user 2 commit first and
 * be admitted ahead of user 1: this test fails then.)
 * Also proves the other side: a refresh of a live token never waits for that counter row.
 */
describeWithPostgres('admission never skips a join still in flight', () => {
  const db = useTestDatabase();
  let database: Database;

  beforeAll(() => {
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
  });

  it('holds later joins until the earlier arrival commits, then admits both in arrival order', async () => {
    const store = createPostgresQueueStore(database, {
      maxActive: 1,
      activeTtlSeconds: 60,
      idleSeconds: 60,
    });
    // User 1 is mid-join: it has its arrival number, in a transaction left open.
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    await slow.query('BEGIN');
    await slow.query(
      `WITH counter AS (UPDATE queue_counter SET last_arrival = last_arrival + 1 WHERE id = 1 RETURNING last_arrival)
       INSERT INTO queue_tokens (token, user_id, status, arrival) SELECT $1, 1, 'WAITING', last_arrival FROM counter`,
      [newQueueToken()],
    );
    // User 2 arrives later: its join waits for user 1's number to be settled.
    let joined = false;
    const second = store.join(2).then((view) => {
      joined = true;
      return view;
    });
    // Admission meanwhile admits nobody: no arrival is visible yet.
    expect((await store.admit()).admitted).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(joined).toBe(false);

    await slow.query('COMMIT');
    await slow.end();
    expect((await second).status).toBe('WAITING');
    expect((await store.admit()).admitted).toBe(1);
    const { rows } = await db.pool.query<{ user_id: string; status: string; arrival: string }>(
      `SELECT user_id, status, arrival FROM queue_tokens ORDER BY arrival`,
    );
    expect(rows.map((row) => [row.user_id, row.status])).toEqual([
      ['1', 'ACTIVE'],
      ['2', 'WAITING'],
    ]);
    expect(Number(rows[1]!.arrival)).toBe(Number(rows[0]!.arrival) + 1);
    expect((await store.poll((await second).token))?.position).toBe(1);
  });

  it('answers a refresh of a live token while a join holds the arrival counter', async () => {
    const store = createPostgresQueueStore(database, {
      maxActive: 1,
      activeTtlSeconds: 60,
      idleSeconds: 60,
    });
    const first = await store.join(10);
    // A join in flight elsewhere: the counter row is locked until it commits.
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`UPDATE queue_counter SET last_arrival = last_arrival + 1 WHERE id = 1`);
      const refreshed = await Promise.race([
        store.join(10),
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 2_000)),
      ]);
      expect(refreshed).not.toBe('blocked');
      expect(refreshed).toMatchObject({ token: first.token, position: first.position });
    } finally {
      await slow.query('ROLLBACK');
      await slow.end();
    }
  });
});
