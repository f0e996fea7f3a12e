import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, paidReservations, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

const KEY = 'show-cancel-race-operator-key-0123456789ab';
const RESERVATIONS = 600;
const BUYER_CANCELS = 40;

/**
 * Proves: a show-cancel job run by two instances at once (two in-process servers on one
 * database, each with its worker, and on top of them batches called directly from both, many
 * at a time), while buyers cancel some of the same reservations, refunds every reservation
 * exactly once — no reservation is refunded twice or missed — and the job's count is exactly
 * the reservations its batches cancelled.
 */
describeWithPostgres('show cancellation on two instances at once', () => {
  const db = useTestDatabase();
  let servers: TestServer[];

  beforeAll(async () => {
    servers = [
      await startTestServer(db, { OPERATOR_KEY: KEY }),
      await startTestServer(db, { OPERATOR_KEY: KEY }),
    ];
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('refunds each reservation once while both instances and the buyers race', async () => {
    // Two days out: buyers are within the refund cut-off (24 h by default).
    const { concertId } = await createConcert(db.pool, {
      seats: RESERVATIONS,
      price: 7_000,
      startsInHours: 48,
    });
    expect(await paidReservations(db.pool, concertId, 90_001)).toBe(RESERVATIONS);
    const { rows: reservations } = await db.pool.query<{ id: string; user_id: string }>(
      `SELECT id, user_id FROM reservations WHERE concert_id = $1 ORDER BY id DESC LIMIT $2`,
      [concertId, BUYER_CANCELS],
    );

    const [a, b] = servers as [TestServer, TestServer];
    const started = await a.client.call('POST', `/api/v1/admin/concerts/${concertId}/cancel`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(started.status).toBe(202);
    const batches = [a, b].flatMap((server) =>
      Array.from({ length: 6 }, () => server.container.reservations.cancelShowBatch(25)),
    );
    const buyers = reservations.map(({ id, user_id }) =>
      b.client.call('POST', `/api/v1/reservations/${id}/cancel`, {
        headers: { 'client-id': user_id },
      }),
    );
    const [batchResults, buyerReplies] = await Promise.all([
      Promise.all(batches),
      Promise.all(buyers),
    ]);
    // Each buyer's cancel succeeded: theirs, or the job's answered again.
    for (const reply of buyerReplies) expect(reply.status).toBe(200);
    // The direct batches' refunds are part of the job's count (checked against the rows below).
    const direct = batchResults.reduce((sum, batch) => sum + (batch?.refunded ?? 0), 0);

    const deadline = Date.now() + 30_000;
    let job: { state: string; total: number; refunded: number; remaining: number };
    for (;;) {
      const reply = await b.client.call<typeof job>(
        'GET',
        `/api/v1/admin/concerts/${concertId}/cancel`,
        { headers: { authorization: `Bearer ${KEY}` } },
      );
      job = reply.data;
      if (job.state === 'done' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(job.state).toBe('done');
    expect(job.remaining).toBe(0);

    const { rows } = await db.pool.query<{
      refunds: number;
      max_per_reservation: number;
      by_operator: number;
      by_buyer: number;
      live: number;
    }>(
      `SELECT (SELECT count(*)::int FROM point_transactions p JOIN reservations r ON r.id = p.reservation_id
                 WHERE r.concert_id = $1 AND p.type = 'REFUND') AS refunds,
              (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM point_transactions
                 WHERE type = 'REFUND' GROUP BY reservation_id) x) AS max_per_reservation,
              count(*) FILTER (WHERE cancelled_by = 'operator')::int AS by_operator,
              count(*) FILTER (WHERE cancelled_by = 'buyer')::int AS by_buyer,
              count(*) FILTER (WHERE cancelled_at IS NULL)::int AS live
       FROM reservations WHERE concert_id = $1`,
      [concertId],
    );
    const counts = rows[0]!;
    expect(counts.live).toBe(0);
    expect(counts.refunds).toBe(RESERVATIONS);
    expect(counts.max_per_reservation).toBe(1);
    expect(counts.by_operator + counts.by_buyer).toBe(RESERVATIONS);
    // The job counted exactly what it cancelled; the buyers' own cancels are not its refunds.
    expect(job.refunded).toBe(counts.by_operator);
    expect(direct).toBeLessThanOrEqual(job.refunded);
    expect(job.total).toBe(RESERVATIONS);
    expect(await invariantViolations(db.pool)).toEqual([]);
  });

  // Proves: multi-seat payments (ticket limit 4, 0041) racing the show's cancellation are whole
  // either way: an order that committed first is refunded seat by seat, in full, by the job; one
  // after the cancellation is refused whole (CONCERT_CANCELLED) and charges nothing. No order is
  // left half paid or half refunded, and every buyer ends with the balance they started with.
  it('refunds or refuses each multi-seat order whole when the show is cancelled under it', async () => {
    const BUYERS = 10;
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: BUYERS * 4,
      price: 5_000,
      startsInHours: 48,
    });
    await db.pool.query('UPDATE concerts SET ticket_limit = 4 WHERE id = $1', [concertId]);
    const [a, b] = servers as [TestServer, TestServer];
    const buyers = [];
    for (let i = 0; i < BUYERS; i++) {
      const userId = 95_000 + i;
      await setBalance(db.pool, userId, 20_000);
      const token = await a.client.activeToken(userId);
      const mine = seatIds.slice(i * 4, i * 4 + 4);
      for (const seatId of mine)
        expect((await a.client.hold(token, concertId, seatId)).status).toBe(201);
      buyers.push({ userId, token, mine });
    }
    // Payments on the instance that issued the tokens (the two servers share only the database
    // here, not a Redis waiting room); the cancellation on the other.
    const [payments, cancelled] = await Promise.all([
      Promise.all(buyers.map((buyer) => a.client.payMany(buyer.token, buyer.mine))),
      b.client.call('POST', `/api/v1/admin/concerts/${concertId}/cancel`, {
        headers: { authorization: `Bearer ${KEY}` },
      }),
    ]);
    expect(cancelled.status).toBe(202);
    for (const reply of payments)
      expect([201, 'CONCERT_CANCELLED']).toContain(reply.status === 201 ? 201 : reply.code);
    const deadline = Date.now() + 30_000;
    let state = '';
    while (state !== 'done' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (
        await a.client.call<{ state: string }>(
          'GET',
          `/api/v1/admin/concerts/${concertId}/cancel`,
          {
            headers: { authorization: `Bearer ${KEY}` },
          },
        )
      ).data.state;
    }
    expect(state).toBe('done');
    const { rows } = await db.pool.query<{ user_id: number; balance: number; orders: number[] }>(
      `SELECT u.id::int AS user_id, u.balance::int,
         array(SELECT count(*)::int FROM reservations r WHERE r.user_id = u.id AND r.cancelled_at IS NOT NULL
                 AND r.refund_amount = r.price GROUP BY r.created_at) AS orders
       FROM users u WHERE u.id = ANY($1::bigint[]) ORDER BY u.id`,
      [buyers.map((buyer) => buyer.userId)],
    );
    const paid = payments.map((reply) => reply.status === 201);
    expect(rows.map((row) => row.balance)).toEqual(buyers.map(() => 20_000));
    // Each order that paid is its four reservations, all refunded in full; the refused ones none.
    expect(rows.map((row) => row.orders)).toEqual(paid.map((ok) => (ok ? [4] : [])));
    expect(await invariantViolations(db.pool)).toEqual([]);
  });
});
