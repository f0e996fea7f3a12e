import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';

/**
 * seat_holds.concert_id (migration 0011, docs/decisions/0052) is the database's copy of the seat's
 * concert: the sections' summary, the seat map and the ticket-limit trigger find a concert's holds
 * by it, so a wrong value would hide a hold from the limit or from the counts. Proves the trigger
 * seat_holds_concert sets it from the seat whatever a writer sends; without that trigger the rows
 * below would keep the wrong concert and the ticket limit would not see them.
 */
describeWithPostgres('seat_holds.concert_id', () => {
  let db: TestDatabase;
  let a: ConcertFixture;
  let b: ConcertFixture;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await createConcert(db.pool, { seats: 5 });
    b = await createConcert(db.pool, { seats: 5 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const insertHold = (seatId: number, userId: number, concertId: number | null) =>
    db.pool.query(
      `INSERT INTO seat_holds (seat_id, concert_id, user_id, hold_uuid, status, expires_at)
       VALUES ($1, $2, $3, $4, 'HELD', now() + interval '5 minutes')`,
      [seatId, concertId, userId, randomUUID()],
    );
  const concertOf = async (seatId: number) =>
    Number(
      (
        await db.pool.query<{ concert_id: string }>(
          'SELECT concert_id FROM seat_holds WHERE seat_id = $1',
          [seatId],
        )
      ).rows[0]?.concert_id,
    );

  it('is the seat’s concert whatever the insert sends (another concert, or none)', async () => {
    await insertHold(a.seatIds[0]!, 71_001, b.concertId);
    await insertHold(b.seatIds[0]!, 71_002, null);
    expect(await concertOf(a.seatIds[0]!)).toBe(a.concertId);
    expect(await concertOf(b.seatIds[0]!)).toBe(b.concertId);
  });

  it('cannot be moved to another concert by an update', async () => {
    await insertHold(a.seatIds[1]!, 71_003, a.concertId);
    await db.pool.query('UPDATE seat_holds SET concert_id = $1 WHERE seat_id = $2', [
      b.concertId,
      a.seatIds[1],
    ]);
    expect(await concertOf(a.seatIds[1]!)).toBe(a.concertId);
  });

  it('makes the ticket limit count a buyer’s holds per concert, even when sent wrong', async () => {
    // Limit 1 (the seed's rule): one live hold per buyer and concert. The first row claims to be
    // in concert b; it is in a, so a second hold in a is refused and one in b is not.
    await insertHold(a.seatIds[2]!, 71_004, b.concertId);
    await expect(insertHold(a.seatIds[3]!, 71_004, a.concertId)).rejects.toMatchObject({
      constraint: 'seat_holds_ticket_limit',
    });
    await insertHold(b.seatIds[1]!, 71_004, b.concertId);
    expect(await invariantViolations(db.pool)).toEqual([]);
  });

  it('has the ticket limit count one buyer’s rows of the concert by key, not the concert’s holds (0065)', async () => {
    // A large concert's holds: the trigger's count must not read them (its cached generic plan
    // AND-ed the concert's index with the user's: every hold of a 20,000-seat concert per hold).
    const big = await createConcert(db.pool, { seats: 400 });
    await db.pool.query(
      `INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at)
       SELECT id, 72000 + seat_number, gen_random_uuid(), 'HELD', now() + interval '5 minutes'
       FROM seats WHERE concert_id = $1 AND seat_number < 400`,
      [big.concertId],
    );
    const client = await db.pool.connect();
    const plans: string[] = [];
    const onNotice = (notice: { message?: string }) => plans.push(notice.message ?? '');
    client.on('notice', onNotice);
    try {
      await client.query('BEGIN');
      // The plan a server's connection settles on after five holds (plpgsql caches it generic).
      await client.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET LOCAL auto_explain.log_min_duration = 0`);
      await client.query(`SET LOCAL auto_explain.log_nested_statements = on`);
      await client.query(`SET LOCAL client_min_messages = log`);
      await client.query(
        `INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at)
         VALUES ($1, 72999, gen_random_uuid(), 'HELD', now() + interval '5 minutes')`,
        [big.seatIds[399]],
      );
      await client.query('ROLLBACK');
    } finally {
      client.off('notice', onNotice);
      client.release();
    }
    const count = plans.find((plan) => plan.includes('SELECT count(*)'));
    expect(count).toContain('seat_holds_user_concert_idx');
    expect(count).not.toContain('seat_holds_concert_idx');
  });
});
