import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

/**
 * A ticket limit above 1 (docs/decisions/0041): holds add up to the limit, several held seats are
 * paid in one transaction, all or nothing, and a reservationUuid still pays once.
 */
describeWithPostgres('ticket limit above 1: holding and paying several seats', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '100' });
  let nextUser = 3_000;

  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 100, queue: server.queue })).toEqual([]);
  });

  /** A concert of `seats` seats at 10,000 won whose buyers may have `limit` seats each. */
  const concertWithLimit = async (limit: number, seats = 6): Promise<ConcertFixture> => {
    const concert = await createConcert(db.pool, { seats, price: 10_000 });
    await db.pool.query('UPDATE concerts SET ticket_limit = $1 WHERE id = $2', [
      limit,
      concert.concertId,
    ]);
    return concert;
  };
  const buyer = async (balance: number) => {
    const userId = nextUser++;
    await setBalance(db.pool, userId, balance);
    return { userId, token: await server.client.activeToken(userId) };
  };
  const holdAll = async (token: string, concertId: number, seatIds: number[]) => {
    for (const seatId of seatIds)
      expect((await server.client.hold(token, concertId, seatId)).status).toBe(201);
  };
  const state = async (userId: number) =>
    (
      await db.pool.query<{ balance: number; reservations: number; held: number; spent: number }>(
        `SELECT (SELECT balance FROM users WHERE id = $1)::int AS balance,
           (SELECT count(*) FROM reservations WHERE user_id = $1)::int AS reservations,
           (SELECT count(*) FROM seat_holds WHERE user_id = $1 AND status = 'HELD')::int AS held,
           (SELECT count(*) FROM point_transactions WHERE user_id = $1 AND type = 'USE')::int AS spent`,
        [userId],
      )
    ).rows[0];

  it('adds holds up to the limit and refuses the next (409 TICKET_LIMIT_REACHED); a repeat of a held seat still answers', async () => {
    const { concertId, seatIds } = await concertWithLimit(3);
    const { token } = await buyer(10_000);
    await holdAll(token, concertId, seatIds.slice(0, 3));
    const refused = await server.client.hold(token, concertId, seatIds[3]!);
    expect([refused.status, refused.code, refused.data]).toEqual([
      409,
      'TICKET_LIMIT_REACHED',
      { field: 'seatId', limit: 3 },
    ]);
    // The user's own held seat is not one more seat.
    expect((await server.client.hold(token, concertId, seatIds[0]!)).status).toBe(201);
    // A hold in another concert releases the holds here (one concert at a time, as at limit 1).
    const other = await concertWithLimit(3);
    expect((await server.client.hold(token, other.concertId, other.seatIds[0]!)).status).toBe(201);
    await holdAll(token, concertId, seatIds.slice(3, 6));
  });

  it('pays held seats together: one debit, a reservation, a USE row (running balance) and an event per seat, the token spent once', async () => {
    const { concertId, seatIds } = await concertWithLimit(4);
    const { userId, token } = await buyer(50_000);
    const mine = [seatIds[2]!, seatIds[0]!, seatIds[1]!];
    await holdAll(token, concertId, mine);
    const paid = await server.client.payMany(token, mine);
    expect([paid.status, paid.message]).toEqual([201, 'Reserved']);
    expect(paid.data).toMatchObject({ concertId, total: 30_000, balance: 20_000 });
    expect(paid.data.reservations.map((line) => line.seatId)).toEqual(mine);
    const ledger = await db.pool.query<{ amount: number; balance_after: number }>(
      `SELECT amount::int, balance_after::int FROM point_transactions
       WHERE user_id = $1 AND type = 'USE' ORDER BY reservation_id`,
      [userId],
    );
    expect(ledger.rows).toEqual([
      { amount: 10_000, balance_after: 40_000 },
      { amount: 10_000, balance_after: 30_000 },
      { amount: 10_000, balance_after: 20_000 },
    ]);
    const events = await db.pool.query(
      `SELECT 1 FROM outbox WHERE type = 'reservation.confirmed' AND (payload->>'userId')::bigint = $1`,
      [userId],
    );
    expect(events.rowCount).toBe(3);
    // The token paid: it cannot pay again.
    const again = await server.client.payMany(token, [seatIds[3]!]);
    expect([again.status, again.code]).toEqual([403, 'QUEUE_TOKEN_EXPIRED']);
  });

  it('charges nothing when one hold expired, names it, and leaves holds, balance and token as they were', async () => {
    const { concertId, seatIds } = await concertWithLimit(3);
    const { userId, token } = await buyer(50_000);
    const mine = seatIds.slice(0, 3);
    await holdAll(token, concertId, mine);
    await db.pool.query(
      `UPDATE seat_holds SET expires_at = now() - interval '1 second' WHERE seat_id = $1`,
      [mine[1]],
    );
    const before = await state(userId);
    const refused = await server.client.payMany(token, mine);
    expect([refused.status, refused.code, refused.data]).toEqual([
      409,
      'HOLD_EXPIRED',
      { field: 'seatIds', seatId: mine[1] },
    ]);
    expect(refused.message).toContain(`seat ${mine[1]}`);
    expect(await state(userId)).toEqual(before);
    // Someone else's seat in the list: refused the same way, naming it.
    const rival = await buyer(10_000);
    expect((await server.client.hold(rival.token, concertId, seatIds[4]!)).status).toBe(201);
    const theirs = await server.client.payMany(token, [mine[0]!, seatIds[4]!]);
    expect([theirs.status, theirs.code, theirs.data]).toEqual([
      409,
      'HOLD_REQUIRED',
      { field: 'seatIds', seatId: seatIds[4] },
    ]);
    // Not enough for the total: nothing changes either.
    const poor = await buyer(15_000);
    const poorSeats = [seatIds[3]!, seatIds[5]!];
    await holdAll(poor.token, concertId, poorSeats);
    const short = await server.client.payMany(poor.token, poorSeats);
    expect([short.status, short.code, short.data]).toEqual([
      402,
      'INSUFFICIENT_BALANCE',
      { price: 20_000 },
    ]);
    expect(await state(poor.userId)).toMatchObject({ balance: 15_000, reservations: 0, held: 2 });
    // Holding the expired seat again, the same token pays all three.
    expect((await server.client.hold(token, concertId, mine[1]!)).status).toBe(201);
    const paid = await server.client.payMany(token, mine);
    expect([paid.status, paid.data.total]).toEqual([201, 30_000]);
    expect(await state(userId)).toMatchObject({ balance: 20_000, reservations: 3, spent: 3 });
  });

  it('replays a reservationUuid for the same seats in any order; another set under the key is 422', async () => {
    const { concertId, seatIds } = await concertWithLimit(2);
    const { userId, token } = await buyer(20_000);
    const mine = seatIds.slice(0, 2);
    await holdAll(token, concertId, mine);
    const key = 'a4c1e9f2-3b7d-4e8a-9c0f-1d2e3f4a5b6c';
    const paid = await server.client.payMany(token, mine, key);
    expect(paid.status).toBe(201);
    const replay = await server.client.payMany(token, [...mine].reverse(), key);
    expect([replay.status, replay.message, replay.data]).toEqual([201, 'Replayed', paid.data]);
    const other = await server.client.payMany(token, [mine[0]!], key);
    expect([other.status, other.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await state(userId)).toMatchObject({ balance: 0, reservations: 2, spent: 2 });
  });

  it('refuses malformed payment bodies with 400 naming the field, before any token check', async () => {
    const body = (payload: unknown) =>
      server.client.call('POST', '/api/v1/reservations', {
        headers: { 'queue-token': 'not-a-token' },
        body: { reservationUuid: 'b4c1e9f2-3b7d-4e8a-9c0f-1d2e3f4a5b6c', ...(payload as object) },
      });
    const answers = await Promise.all(
      [{ seatId: 1, seatIds: [2] }, {}, { seatIds: [] }, { seatIds: [3, 3] }, { seatIds: [0] }].map(
        async (payload) => {
          const reply = await body(payload);
          return [reply.status, reply.code, (reply.data as { field?: string }).field];
        },
      ),
    );
    expect(answers.map(([status, code]) => [status, code])).toEqual(
      Array.from({ length: 5 }, () => [400, 'INVALID_REQUEST']),
    );
    // Both: refused in words, naming seatIds.
    expect(answers[0]![2]).toBe('seatIds');
    expect(answers[1]![2]).toBe('seatId');
  });
});
