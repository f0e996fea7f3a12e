import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createHousekeeping } from '../../src/workers/housekeeping.worker.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * Proves the purge of departed tokens and skipped arrival numbers goes by each room's own head:
 * a room's old rows go once its line has passed them, whatever another room's line holds (arrival
 * numbers are per room), and a row still between a line's head and someone waiting stays, since
 * the positions of those behind it subtract it.
 */
describeWithPostgres('housekeeping of the waiting rooms', () => {
  const db = useTestDatabase();
  let database: Database;

  beforeAll(() => {
    database = openDatabase({
      url: db.url,
      poolSize: 2,
      pgliteDir: '',
      pgliteInMemory: false,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("purges a room's departures behind its own head, and keeps those still inside a line", async () => {
    const token = (room: number, arrival: number, status: string) =>
      db.pool.query(
        `INSERT INTO queue_tokens (token, room_id, user_id, status, arrival, expired_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $4 = 'EXPIRED' THEN now() - interval '48 hours' END)`,
        [`hk-${room}-${arrival}`, room, 1_000 * room + arrival, status, arrival],
      );
    // The house room (0): its head waits at arrival 1; arrival 2 left the line, arrival 3 waits.
    await token(0, 1, 'WAITING');
    await token(0, 2, 'EXPIRED');
    await token(0, 3, 'WAITING');
    // Room 77: arrival 1 left, 2 was never used, its head waits at arrival 3.
    await token(77, 1, 'EXPIRED');
    await db.pool.query(`INSERT INTO queue_skipped_arrivals (room_id, arrival) VALUES (77, 2)`);
    await token(77, 3, 'WAITING');

    await createHousekeeping(database, {
      retentionHours: 24,
      intervalMs: 60_000,
      logger: pino({ level: 'silent' }),
    }).runNow();

    const left = await db.pool.query<{ token: string }>(
      `SELECT token FROM queue_tokens WHERE token LIKE 'hk-%' ORDER BY token`,
    );
    expect(left.rows.map((row) => row.token)).toEqual(['hk-0-1', 'hk-0-2', 'hk-0-3', 'hk-77-3']);
    const skipped = await db.pool.query(`SELECT 1 FROM queue_skipped_arrivals WHERE room_id = 77`);
    expect(skipped.rowCount).toBe(0);
  });
});
