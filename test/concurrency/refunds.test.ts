import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

const KEY = 'refunds-race-operator-key-0123456789abcdef';

interface Cancellation {
  reservationId: number;
  refundAmount: number;
  cancelledBy: string;
  cancelledAt: string;
}

/**
 * Cancellations fired as truly concurrent HTTP requests at a listening server on real
 * PostgreSQL, with the invariants (ledger sum = balance, one live reservation per seat, one
 * refund per cancellation, sold holds match live reservations) checked in the database after.
 */
describeWithPostgres('cancellations under concurrency', () => {
  const { db, server } = useTestServer({
    MAX_ACTIVE: '1000',
    DB_POOL_SIZE: '20',
    OPERATOR_KEY: KEY,
  });
  let nextUser = 5_000;

  afterEach(async () => {
    expect(await invariantViolations(db.pool, { maxActive: 1000, queue: server.queue })).toEqual(
      [],
    );
  });

  const cancel = (userId: number, reservationId: number) =>
    server.client.call<Cancellation>('POST', `/api/v1/reservations/${reservationId}/cancel`, {
      headers: { 'client-id': String(userId) },
    });
  const operatorCancel = (reservationId: number) =>
    server.client.call<Cancellation>('POST', `/api/v1/admin/reservations/${reservationId}/cancel`, {
      headers: { authorization: `Bearer ${KEY}` },
    });

  /** A new buyer with `balance` who holds and pays for the seat. */
  const buy = async (concertId: number, seatId: number, balance: number) => {
    const userId = nextUser++;
    await setBalance(db.pool, userId, balance);
    const token = await server.client.activeToken(userId);
    expect((await server.client.hold(token, concertId, seatId)).status).toBe(201);
    const paid = await server.client.pay(token, seatId);
    expect(paid.status).toBe(201);
    return { userId, reservationId: paid.data.reservationId };
  };

  const refundsOf = async (reservationId: number) =>
    (
      await db.pool.query<{ n: number; amount: number | null }>(
        `SELECT count(*)::int AS n, sum(amount)::int AS amount FROM point_transactions
         WHERE type = 'REFUND' AND reservation_id = $1`,
        [reservationId],
      )
    ).rows[0];

  // Proves: the reservation row lock (SELECT … FOR UPDATE, then a conditional UPDATE … WHERE
  // cancelled_at IS NULL) lets exactly one of 20 simultaneous cancels refund; the other 19 wait,
  // find it cancelled and answer the same cancellation; the balance gets the refund once.
  it('20 parallel cancels of one reservation → one REFUND row, every reply the same cancellation, balance right', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: 1,
      price: 8_000,
      startsInHours: 72,
    });
    await db.pool.query(`UPDATE concerts SET refund_fee_percent = 25 WHERE id = $1`, [concertId]);
    const { userId, reservationId } = await buy(concertId, seatIds[0]!, 10_000);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => cancel(userId, reservationId)),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    expect(replies.filter((reply) => reply.message === 'Cancelled')).toHaveLength(1);
    expect(replies.filter((reply) => reply.message === 'Already cancelled')).toHaveLength(19);
    expect(new Set(replies.map((reply) => JSON.stringify(reply.data))).size).toBe(1);
    expect(replies[0]!.data.refundAmount).toBe(6_000);
    expect(await refundsOf(reservationId)).toEqual({ n: 1, amount: 6_000 });
    expect((await server.client.balance(userId)).data.balance).toBe(8_000);
    const events = await db.pool.query(
      `SELECT count(*)::int AS n FROM outbox WHERE type = 'reservation.cancelled' AND payload->>'reservationId' = $1`,
      [String(reservationId)],
    );
    expect(events.rows[0]).toEqual({ n: 1 });
  });

  // Proves: buyer and operator cancels of one reservation racing each other still refund once —
  // whichever commits first decides the amount (fee or not) and every reply names that one.
  it('buyer and operator cancelling the same reservation at once → one refund, one story', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: 1,
      price: 10_000,
      startsInHours: 72,
    });
    await db.pool.query(`UPDATE concerts SET refund_fee_percent = 10 WHERE id = $1`, [concertId]);
    const { userId, reservationId } = await buy(concertId, seatIds[0]!, 10_000);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? cancel(userId, reservationId) : operatorCancel(reservationId),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    expect(replies.filter((reply) => reply.message === 'Cancelled')).toHaveLength(1);
    expect(new Set(replies.map((reply) => JSON.stringify(reply.data))).size).toBe(1);
    const { cancelledBy, refundAmount } = replies[0]!.data;
    expect(refundAmount).toBe(cancelledBy === 'operator' ? 10_000 : 9_000);
    expect(await refundsOf(reservationId)).toEqual({ n: 1, amount: refundAmount });
    expect((await server.client.balance(userId)).data.balance).toBe(refundAmount);
  });

  // Proves: a cancel racing charges of the same user keeps the balance equal to the ledger sum
  // (the refund's conditional UPDATE of users and its balance_after are taken under the row lock).
  it('a cancel racing charges of the same buyer → balance = ledger sum, exact total', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: 1,
      price: 5_000,
      startsInHours: 72,
    });
    const { userId, reservationId } = await buy(concertId, seatIds[0]!, 5_000);
    const replies = await Promise.all([
      cancel(userId, reservationId),
      ...Array.from({ length: 20 }, () => server.client.charge(userId, 1_000)),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual(Array<number>(21).fill(200));
    expect((await server.client.balance(userId)).data.balance).toBe(25_000);
    const ledger = await db.pool.query<{ type: string; amount: number; balance_after: number }>(
      `SELECT type, amount::int, balance_after::int FROM point_transactions WHERE user_id = $1 ORDER BY id`,
      [userId],
    );
    // Every row's balance_after is the running sum of the ledger in commit order.
    let running = 0;
    for (const row of ledger.rows) {
      running += row.type === 'USE' ? -row.amount : row.amount;
      expect(row.balance_after).toBe(running);
    }
    expect(running).toBe(25_000);
  });

  // Proves: a cancel racing new holds and payments of the seat it frees never leaves two live
  // reservations on the seat: until the cancel commits the seat's SOLD hold refuses every hold
  // (409 SEAT_ALREADY_RESERVED); after it, the seat_holds primary key lets exactly one
  // contender hold it, and the partial unique index on live reservations backs the payment.
  // A loser asking after the cancel's reply may find the seat already held (SEAT_ALREADY_HELD)
  // or, when the winner paid first, sold again (SEAT_ALREADY_RESERVED): both are refusals.
  it('a cancel racing 10 buyers holding and paying the freed seat → exactly one live reservation, sold once', async () => {
    for (let round = 0; round < 3; round++) {
      const { concertId, seatIds } = await createConcert(db.pool, {
        seats: 1,
        price: 3_000,
        startsInHours: 72,
      });
      const seatId = seatIds[0]!;
      const first = await buy(concertId, seatId, 3_000);
      const contenders = Array.from({ length: 10 }, () => nextUser++);
      await Promise.all(contenders.map((user) => setBalance(db.pool, user, 3_000)));
      const tokens = await Promise.all(contenders.map((user) => server.client.activeToken(user)));

      // The cancel starts once a contender has been refused because the seat is sold, so the
      // contenders' retries (every 2 ms) run before, during and after the cancel's transaction.
      let sawSold: () => void = () => undefined;
      const soldSeen = new Promise<void>((resolve) => (sawSold = resolve));
      let cancelAnswered = false;
      /** Tries to hold the seat until it is free (sold → retry) or someone else has it. */
      const contend = async (token: string) => {
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          // Sold when asked after the cancel's reply: sold again, to the winner.
          const resold = cancelAnswered;
          const held = await server.client.hold(token, concertId, seatId);
          if (held.status === 201) return (await server.client.pay(token, seatId)).status;
          if (held.code !== 'SEAT_ALREADY_RESERVED' || resold) return held.code;
          sawSold();
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return 'TIMED_OUT';
      };
      const [cancelled, ...outcomes] = await Promise.all([
        soldSeen.then(async () => {
          const reply = await cancel(first.userId, first.reservationId);
          cancelAnswered = true;
          return reply;
        }),
        ...tokens.map(contend),
      ]);
      expect(cancelled.status).toBe(200);
      expect(outcomes.filter((outcome) => outcome === 201)).toHaveLength(1);
      const refusals = outcomes.filter((outcome) => outcome !== 201);
      expect(refusals).toHaveLength(9);
      for (const refusal of refusals) {
        expect(['SEAT_ALREADY_HELD', 'SEAT_ALREADY_RESERVED']).toContain(refusal);
      }
      const live = await db.pool.query<{ user_id: number }>(
        `SELECT user_id::int FROM reservations WHERE seat_id = $1 AND cancelled_at IS NULL`,
        [seatId],
      );
      expect(live.rows).toHaveLength(1);
      expect(contenders).toContain(live.rows[0]!.user_id);
      const hold = await db.pool.query(
        `SELECT user_id::int, status FROM seat_holds WHERE seat_id = $1`,
        [seatId],
      );
      expect(hold.rows).toEqual([{ user_id: live.rows[0]!.user_id, status: 'SOLD' }]);
    }
  });
});
