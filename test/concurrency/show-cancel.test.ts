import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, paidReservations } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';

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
  let db: TestDatabase;
  let servers: TestServer[];

  beforeAll(async () => {
    db = await createTestDatabase();
    servers = [
      await startTestServer(db, { OPERATOR_KEY: KEY }),
      await startTestServer(db, { OPERATOR_KEY: KEY }),
    ];
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await db?.drop();
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
});
